using UnityEditor;
using UnityEngine;

namespace SkyHopper.EditorTools
{
    /// <summary>An editor window that snaps every selected platform to the level grid.</summary>
    public class LevelToolsWindow : EditorWindow
    {
        private float gridSize = 1f;

        [MenuItem("Window/Sky Hopper/Level Tools")]
        public static void ShowWindow()
        {
            GetWindow<LevelToolsWindow>("Level Tools");
        }

        private void OnGUI()
        {
            gridSize = EditorGUILayout.FloatField("Grid size", gridSize);
            if (GUILayout.Button("Snap selection to grid"))
            {
                foreach (Transform selected in Selection.transforms)
                {
                    Undo.RecordObject(selected, "Snap to grid");
                    selected.position = Snap(selected.position);
                }
            }
        }

        private Vector3 Snap(Vector3 position)
        {
            return new Vector3(Mathf.Round(position.x / gridSize) * gridSize, Mathf.Round(position.y / gridSize) * gridSize, position.z);
        }
    }
}
