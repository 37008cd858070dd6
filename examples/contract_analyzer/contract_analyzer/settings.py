"""The function's settings, read once from its environment (``faasport.toml``'s
``environment``), and the AI providers they configure with keys from the secrets helper."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contract_analyzer.providers import Gemini, OpenAICompatible, Provider

log = logging.getLogger("contract_analyzer")

#: Secret names of the providers' API keys (declared in faasport.toml's ``secrets``).
KEY_SECRETS = {"openai": "contract-analyzer/openai-key", "gemini": "contract-analyzer/gemini-key"}
DEFAULT_URLS = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com",
}
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "gemini": "gemini-2.0-flash"}


@dataclass(frozen=True)
class Settings:
    providers: tuple[str, ...]  # in the order they are tried
    urls: dict[str, str]
    models: dict[str, str]
    timeout: float  # seconds, per provider
    state_url: str
    reports_bucket: str
    max_code_bytes: int

    @classmethod
    def from_environment(cls) -> Settings:
        names = tuple(
            name.strip().lower()
            for name in os.environ.get("AI_PROVIDERS", "").split(",")
            if name.strip()
        )
        unknown = [name for name in names if name not in KEY_SECRETS]
        if unknown:
            raise ValueError(
                f"AI_PROVIDERS: unknown provider {unknown[0]!r} (known: openai, gemini)"
            )
        default_state = "sqlite:///" + str(Path(tempfile.gettempdir(), "contract-analyzer.db"))
        return cls(
            providers=names,
            urls={n: os.environ.get(f"{n.upper()}_BASE_URL", DEFAULT_URLS[n]) for n in KEY_SECRETS},
            models={
                n: os.environ.get(f"{n.upper()}_MODEL", DEFAULT_MODELS[n]) for n in KEY_SECRETS
            },
            timeout=float(os.environ.get("AI_TIMEOUT", "10")),
            state_url=os.environ.get("STATE_URL", default_state),
            reports_bucket=os.environ.get("REPORTS_BUCKET", "reports"),
            max_code_bytes=int(os.environ.get("MAX_CONTRACT_BYTES", str(256 * 1024))),
        )

    def build_providers(self) -> tuple[list[Provider], list[str]]:
        """The providers that have a key, and a note for each that has none."""
        from faasport import secrets

        built: list[Provider] = []
        skipped = []
        for name in self.providers:
            try:
                key = secrets.get(KEY_SECRETS[name])
            except secrets.SecretError as error:
                # The message names the secret and how to set it, never a value.
                log.warning("AI provider %s skipped: %s", name, error)
                skipped.append(name)
                continue
            kind = OpenAICompatible if name == "openai" else Gemini
            built.append(kind(self.urls[name], self.models[name], key))
        return built, skipped
