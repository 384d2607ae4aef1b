using System;
using UnityEngine;

namespace SkyHopper
{
    /// <summary>Hit points of a character; raises Died when they reach zero.</summary>
    public class HealthSystem : MonoBehaviour
    {
        [SerializeField] private int maxHealth = 100;

        public event Action Died;

        public int CurrentHealth { get; private set; }

        private void Awake()
        {
            CurrentHealth = maxHealth;
        }

        public void TakeDamage(int amount)
        {
            CurrentHealth = Mathf.Max(CurrentHealth - amount, 0);
            if (CurrentHealth == 0)
            {
                Died?.Invoke();
            }
        }

        public void Heal(int amount)
        {
            CurrentHealth = Mathf.Min(CurrentHealth + amount, maxHealth);
        }
    }
}
