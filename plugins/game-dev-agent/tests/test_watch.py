"""Re-index on change: a saved, added or deleted file is seen by Q&A, explain and lint within
moments, without asking."""

from __future__ import annotations

from pathlib import Path


async def test_an_edited_file_is_reindexed_and_its_cites_follow_the_new_lines(gamedev_host, unity_project: Path, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unity_project))["id"]
        script = unity_project / "Assets/Scripts/PlayerController.cs"
        script.write_text(script.read_text().replace(
            "        [SerializeField] private float jumpHeight = 2.5f;\n",
            "        [Tooltip(\"Metres.\")]\n        [SerializeField] private float jumpHeight = 3.25f;\n"))

        async def cites_the_new_line() -> bool:
            answer = (await host.client.post(f"/gamedev/projects/{project}/ask",
                                             json={"question": "Where is the player's jump height set?"})).json()
            return answer["citations"][0]["cite"] == "Assets/Scripts/PlayerController.cs:12"

        await kit.eventually(cites_the_new_line)
        lint = (await host.client.get(f"/gamedev/projects/{project}/lint", params={"rule": "unity.public_field"})).json()
        assert [f["cite"] for f in lint["items"]] == ["Assets/Scripts/PlayerController.cs:14"]


async def test_added_and_deleted_files_come_and_go(gamedev_host, unity_project: Path, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unity_project))["id"]
        (unity_project / "Assets/Scripts/Coin.cs").write_text(
            "using UnityEngine;\n\npublic class Coin : MonoBehaviour\n{\n    public int value = 5;\n}\n")
        (unity_project / "Assets/Scripts/EnemyAI.cs").unlink()
        (unity_project / "Library").mkdir()
        (unity_project / "Library/Cache.cs").write_text("class Ignored {}\n")  # Unity's cache: never indexed

        async def both_seen() -> bool:
            coin = await host.client.get(f"/gamedev/projects/{project}/classes/Coin")
            enemy = await host.client.get(f"/gamedev/projects/{project}/classes/EnemyAI")
            return coin.status_code == 200 and enemy.status_code == 404

        await kit.eventually(both_seen)
        described = (await host.client.get(f"/gamedev/projects/{project}")).json()
        assert described["files"] == 13  # one added, one deleted, the cache ignored
        lint = (await host.client.get(f"/gamedev/projects/{project}/lint")).json()["items"]
        assert "Assets/Scripts/Coin.cs:5" in [f["cite"] for f in lint]
        assert not any(f["file"] == "Assets/Scripts/EnemyAI.cs" for f in lint)
        assert (await host.client.get(f"/gamedev/projects/{project}/classes/Ignored")).status_code == 404


async def test_a_project_is_watched_again_after_a_restart(gamedev_host, unity_project: Path, lumina_data_dir, kit) -> None:
    async with gamedev_host() as host:
        project = (await kit.register(host, unity_project))["id"]
    (unity_project / "Assets/Scripts/Coin.cs").write_text("using UnityEngine;\n\npublic class Coin : MonoBehaviour {}\n")
    async with gamedev_host() as host:  # the same data folder: the project is known, and caught up

        async def coin_known() -> bool:
            return (await host.client.get(f"/gamedev/projects/{project}/classes/Coin")).status_code == 200

        await kit.eventually(coin_known, timeout=60)
