"""A user's files, passages and brains are invisible to every other user, through every endpoint."""

from __future__ import annotations

from lumina_core.contract import ChatRequest, Message


async def test_bob_reaches_none_of_alices_files_passages_or_brains(documents_host, kit):
    async with documents_host() as host:
        c = host.client
        alice, bob = await kit.sign_up(host, "alice"), await kit.sign_up(host, "bob")
        alice_id = (await c.get("/auth/me", headers=alice)).json()["id"]
        bob_id = (await c.get("/auth/me", headers=bob)).json()["id"]
        (pdf,) = (await kit.upload(host, alice, ("heron.pdf", kit.make_pdf(kit.manual_pages)), brain="work")).json()["items"]
        await kit.until_final(host, alice, pdf["id"])
        await c.post("/ingest", headers=alice, json={"brain_id": "work", "content": "The vault code is 7345."})
        (hit, *_) = await kit.query(host, alice, "warranty three years", brain="work")

        for call in [
            c.get(f"/files/{pdf['id']}", headers=bob),
            c.delete(f"/files/{pdf['id']}", headers=bob),
            c.post(f"/files/{pdf['id']}/reindex", headers=bob),
            c.get(f"/documents/passages/{hit['id']}", headers=bob),
            c.delete("/brains/work", headers=bob),
        ]:
            response = await call
            assert response.status_code == 404, (response.request.method, response.request.url, response.text)
            assert "7345" not in response.text and "warranty" not in response.text

        assert (await c.get("/files", headers=bob)).json()["items"] == []
        assert (await c.get("/brains", headers=bob)).json()["items"] == []
        stats = (await c.get("/files/stats", headers=bob)).json()
        assert (stats["files"], stats["bytes"], stats["passages"]) == (0, 0, 0)
        for question in ("What is the vault code?", "How long is the warranty?"):
            assert await kit.query(host, bob, question, brain="work") == []
        request = ChatRequest(messages=(Message("user", "What is the vault code?"),), user_id=bob_id, brain_id="work")
        outcomes = await host.kernel.call_each("chat_context", request=request)
        assert not [b for o in outcomes if o.plugin == "documents" for b in o.value]

        # the same content in bob's own brain is his own file, not a duplicate of alice's
        (his,) = (await kit.upload(host, bob, ("heron.pdf", kit.make_pdf(kit.manual_pages)), brain="work")).json()["items"]
        assert his["id"] != pdf["id"] and his["duplicate"] is False
        assert (await c.get(f"/files/{pdf['id']}", headers=alice)).json()["state"] == "ready"
        assert (await kit.query(host, alice, "What is the vault code?", brain="work"))[0]["text"] == "The vault code is 7345."
        assert alice_id != bob_id


async def test_every_documents_route_needs_sign_in(documents_host):
    async with documents_host() as host:
        for method, path in [("GET", "/files"), ("POST", "/files"), ("GET", "/files/stats"), ("GET", "/files/x"),
                             ("DELETE", "/files/x"), ("POST", "/files/x/reindex"), ("GET", "/brains"),
                             ("PUT", "/brains/x"), ("DELETE", "/brains/x"), ("POST", "/ingest"), ("POST", "/query"),
                             ("GET", "/documents/passages/x")]:
            response = await host.client.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
