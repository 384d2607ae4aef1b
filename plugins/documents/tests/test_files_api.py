"""The files API: upload, watch the state, list, count, read again, delete — over real HTTP."""

from __future__ import annotations

import pytest


async def test_a_pdf_and_a_markdown_note_become_ready_and_answer_with_their_page(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        response = await kit.upload(host, alice, ("heron.pdf", kit.make_pdf(kit.manual_pages)),
                                    ("garden.md", kit.garden_note.encode()))
        assert response.status_code == 202, response.text
        pdf, note = response.json()["items"]
        assert pdf["state"] == "queued" and pdf["media_type"] == "application/pdf" and pdf["duplicate"] is False
        pdf = await kit.until_final(host, alice, pdf["id"])
        note = await kit.until_final(host, alice, note["id"])
        assert (pdf["state"], pdf["pages"], pdf["progress"], pdf["reason"]) == ("ready", 3, 1.0, None)
        assert pdf["passages"] >= 3 and pdf["bytes"] > 0 and pdf["ready_at"]
        assert (note["state"], note["format"]) == ("ready", "markdown")

        (best, *_) = await kit.query(host, alice, "How long is the warranty of the Heron?")
        assert "three years" in best["text"] and best["score"] > 0
        assert best["source"] | {"section": None} == {
            "file_id": pdf["id"], "name": "heron.pdf", "kind": "file", "brain_id": "default", "page": 3,
            "section": None, "title": "Heron manual", "url": f"/files/{pdf['id']}"}
        (garden, *_) = await kit.query(host, alice, "When was the quince tree pruned?")
        assert "twelfth of March" in garden["text"] and garden["source"]["section"] == "Spring"

        cite = (await host.client.get(f"/documents/passages/{best['id']}", headers=alice)).json()
        assert cite["text"] == best["text"] and cite["source"]["page"] == 3

        metrics = (await host.client.get("/metrics")).text
        assert 'lumina_documents_files_total{format="pdf",state="ready"}' in metrics
        assert 'lumina_tasks_total{kind="documents.ingest",state="succeeded"}' in metrics
        assert "lumina_documents_passages_total" in metrics


async def test_files_are_listed_newest_first_in_pages_and_counted(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        for number in range(3):
            await kit.upload(host, alice, (f"n{number}.txt", f"Note number {number} about apples.".encode()))
        first = (await host.client.get("/files?limit=2", headers=alice)).json()
        rest = (await host.client.get(f"/files?limit=2&cursor={first['next_cursor']}", headers=alice)).json()
        assert [f["name"] for f in first["items"] + rest["items"]] == ["n2.txt", "n1.txt", "n0.txt"]
        assert rest["next_cursor"] is None
        for record in first["items"] + rest["items"]:
            await kit.until_final(host, alice, record["id"])
        stats = (await host.client.get("/files/stats", headers=alice)).json()
        assert (stats["files"], stats["ready"], stats["failed"], stats["brains"]) == (3, 3, 0, 1)
        assert stats["passages"] == 3 and stats["quota_bytes"] == 500 * 1024 * 1024
        assert (await host.client.get("/files?state=failed", headers=alice)).json()["items"] == []


async def test_deleting_a_file_takes_its_passages_out_of_search_at_once(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        (record,) = (await kit.upload(host, alice, ("heron.pdf", kit.make_pdf(kit.manual_pages)))).json()["items"]
        await kit.until_final(host, alice, record["id"])
        (hit, *_) = await kit.query(host, alice, "descaling tablets vinegar")
        assert (await host.client.delete(f"/files/{record['id']}", headers=alice)).status_code == 204
        assert await kit.query(host, alice, "descaling tablets vinegar") == []
        assert (await host.client.get(f"/files/{record['id']}", headers=alice)).status_code == 404
        assert (await host.client.get(f"/documents/passages/{hit['id']}", headers=alice)).status_code == 404


async def test_a_corrupt_pdf_fails_with_its_reason_and_blocks_no_other_file(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        broken = kit.make_pdf(kit.manual_pages)[:300]
        bad, good = (await kit.upload(host, alice, ("broken.pdf", broken), ("memo.txt", b"Lunch is at noon."))).json()["items"]
        bad, good = await kit.until_final(host, alice, bad["id"]), await kit.until_final(host, alice, good["id"])
        assert bad["state"] == "failed" and "PDF is damaged" in bad["reason"] and bad["passages"] == 0
        assert good["state"] == "ready"
        stats = (await host.client.get("/files/stats", headers=alice)).json()
        assert (stats["ready"], stats["failed"]) == (1, 1)


async def test_unsupported_files_are_refused_with_415_but_the_others_are_taken(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        alone = await kit.upload(host, alice, ("film.mp4", b"\x00\x00\x00\x18ftypmp42"))
        assert alone.status_code == 415
        assert "not supported" in alone.json()["error"]["message"]
        mixed = (await kit.upload(host, alice, ("film.mp4", b"\x00\x00"), ("memo.txt", b"Lunch at noon."))).json()
        assert [f["name"] for f in mixed["items"]] == ["memo.txt"]
        assert mixed["rejected"][0]["name"] == "film.mp4" and mixed["rejected"][0]["status"] == 415


async def test_the_same_content_twice_in_a_brain_is_one_file(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        (first,) = (await kit.upload(host, alice, ("memo.txt", b"Lunch is at noon."))).json()["items"]
        (again,) = (await kit.upload(host, alice, ("copy.txt", b"Lunch is at noon."))).json()["items"]
        assert again["id"] == first["id"] and again["duplicate"] is True
        (elsewhere,) = (await kit.upload(host, alice, ("memo.txt", b"Lunch is at noon."), brain="work")).json()["items"]
        assert elsewhere["id"] != first["id"] and elsewhere["duplicate"] is False


@pytest.mark.parametrize(("settings", "size", "words"), [
    ({"upload_max_mb": 0.01}, 20_000, "over the 0.01 MiB limit per file"),
    ({"user_quota_mb": 0.02}, 25_000, "does not fit in your quota: 0.0 KiB"),
])
async def test_limits_answer_413_with_a_message(documents_host, kit, settings, size, words):
    async with documents_host(plugin_config={"documents": settings}) as host:
        alice = await kit.sign_up(host, "alice")
        assert (await kit.upload(host, alice, ("small.txt", b"fits"))).status_code == 202
        response = await kit.upload(host, alice, ("big.txt", b"word " * (size // 5)))
        assert response.status_code == 413
        assert words in response.json()["error"]["message"]
        assert response.json()["error"]["type"] == "validation_error"


async def test_reindex_reads_a_file_again_and_it_ends_ready_with_the_same_passages(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        (record,) = (await kit.upload(host, alice, ("heron.pdf", kit.make_pdf(kit.manual_pages)))).json()["items"]
        ready = await kit.until_final(host, alice, record["id"])
        response = await host.client.post(f"/files/{record['id']}/reindex", headers=alice)
        assert response.status_code == 202 and response.headers["location"] == f"/files/{record['id']}"
        again = await kit.until_final(host, alice, record["id"])
        assert (again["state"], again["passages"]) == ("ready", ready["passages"])
        assert len(await kit.query(host, alice, "warranty receipt Utrecht", n=10)) == ready["passages"]


async def test_bad_brain_ids_and_missing_files_are_clear_errors(documents_host, kit):
    async with documents_host() as host:
        alice = await kit.sign_up(host, "alice")
        bad = await kit.upload(host, alice, ("memo.txt", b"x"), brain="../etc")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "brain_id"
        assert (await host.client.post("/files", headers=alice, data={"brain_id": "x"})).status_code == 422
        missing = await host.client.get("/files/nope", headers=alice)
        assert missing.status_code == 404 and "GET /files" in missing.json()["error"]["message"]
