using UnityEngine;

namespace SkyHopper
{
    /// <summary>Tuning values shared by every level, edited as an asset.</summary>
    [CreateAssetMenu(fileName = "GameSettings", menuName = "Sky Hopper/Game Settings")]
    public class GameSettings : ScriptableObject
    {
        [SerializeField] private float gravityScale = 1.5f;
        [SerializeField] private int startingLives = 3;
        [SerializeField] private float respawnDelaySeconds = 2f;

        public float GravityScale => gravityScale;
        public int StartingLives => startingLives;
        public float RespawnDelaySeconds => respawnDelaySeconds;
    }
}
