"""The baseline of the registry benchmark: the same endpoint in a bare FastAPI app."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello/greet")
async def greet(name: str = "world") -> dict[str, str]:
    return {"message": f"hello, {name}"}
