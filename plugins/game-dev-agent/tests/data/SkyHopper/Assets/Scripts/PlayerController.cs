using UnityEngine;

namespace SkyHopper
{
    /// <summary>
    /// Moves the player with the keyboard and makes it jump when grounded.
    /// </summary>
    [RequireComponent(typeof(Rigidbody))]
    public class PlayerController : MonoBehaviour
    {
        [SerializeField] private float jumpHeight = 2.5f;
        [SerializeField] private LayerMask groundLayers;
        public float moveSpeed = 6f;

        private Rigidbody body;
        private bool isGrounded;

        private void Awake()
        {
            body = GetComponent<Rigidbody>();
        }

        private void Start()
        {
            Debug.Log("Player ready with jump height " + jumpHeight);
        }

        private void Update()
        {
            float horizontal = Input.GetAxis("Horizontal");
            Vector3 velocity = new Vector3(horizontal * moveSpeed, body.velocity.y, 0f);
            GetComponent<Rigidbody>().velocity = velocity;

            if (isGrounded && Input.GetButtonDown("Jump"))
            {
                Jump();
            }
        }

        /// <summary>Launches the player upwards so that it peaks at jumpHeight.</summary>
        private void Jump()
        {
            float launchSpeed = Mathf.Sqrt(2f * jumpHeight * -Physics.gravity.y);
            body.velocity = new Vector3(body.velocity.x, launchSpeed, 0f);
            isGrounded = false;
        }

        private void OnCollisionEnter(Collision collision)
        {
            if (((1 << collision.gameObject.layer) & groundLayers) != 0)
            {
                isGrounded = true;
            }
        }
    }
}
