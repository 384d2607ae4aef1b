using System.Collections.Generic;
using UnityEngine;

namespace SkyHopper
{
    /// <summary>Patrols between waypoints and chases the player when it comes close.</summary>
    public class EnemyAI : MonoBehaviour
    {
        [SerializeField] private Transform[] waypoints;
        [SerializeField] private float chaseRange = 8f;
        [SerializeField] private float patrolSpeed = 2f;

        private int currentWaypoint;

        private void Update()
        {
            GameObject player = GameObject.Find("Player");
            List<Transform> nearby = new List<Transform>();
            if (player != null && Vector3.Distance(transform.position, player.transform.position) < chaseRange)
            {
                nearby.Add(player.transform);
                transform.position = Vector3.MoveTowards(transform.position, player.transform.position, patrolSpeed * 2f * Time.deltaTime);
                return;
            }
            Patrol();
        }

        private void Patrol()
        {
            Transform target = waypoints[currentWaypoint];
            transform.position = Vector3.MoveTowards(transform.position, target.position, patrolSpeed * Time.deltaTime);
            if (Vector3.Distance(transform.position, target.position) < 0.1f)
            {
                currentWaypoint = (currentWaypoint + 1) % waypoints.Length;
            }
        }

        private void OnTriggerEnter(Collider other)
        {
            if (other.CompareTag("Player"))
            {
                other.GetComponent<HealthSystem>().TakeDamage(10);
            }
        }
    }
}
