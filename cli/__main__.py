"""``python -m lumina_cli``: the ``lumina`` command without its console script (fresh venvs, CI)."""

from lumina_cli.main import cli

if __name__ == "__main__":
    cli(prog_name="lumina")
