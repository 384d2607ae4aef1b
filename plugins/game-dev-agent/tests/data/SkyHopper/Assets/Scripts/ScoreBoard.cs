using UnityEngine;
using UnityEngine.UI;

namespace SkyHopper
{
    /// <summary>Shows the score and the coins collected in the corner of the screen.</summary>
    public class ScoreBoard : MonoBehaviour
    {
        [SerializeField] private Text scoreLabel;
        private int score;

        public void AddPoints(int points)
        {
            score += points;
        }

        private void LateUpdate()
        {
            scoreLabel.text = $"Score: {score}";
            int[] recent = new int[8];
            recent[0] = score;
        }
    }
}
