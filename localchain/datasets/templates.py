"""Named prompt templates (FLAN style) for prompt/completion records.

A template is data: a format string with one ``{prompt}`` placeholder. Tuning and evaluation
apply the same one, so an adapter is scored on prompts shaped as it was trained on.
"""

from __future__ import annotations

from localchain.errors import ConfigError

TEMPLATES: dict[str, str] = {
    "plain": "{prompt}",
    "instruction": "{prompt}\n\nAnswer:",
    "flan-qa": "Q: {prompt}\nA:",
    "flan-instruction": "Instructions: {prompt}\n\nOutput:",
    "concise": "Answer briefly and exactly.\n\n{prompt}",
}
"""Named prompt templates for prompt/completion records; ``{prompt}`` is filled."""


def resolve_template(template: str | None) -> str | None:
    """Turn a template name or a literal ``{prompt}`` string into a format string.

    Args:
        template: A name from :data:`TEMPLATES`, a string containing ``{prompt}``, or None.

    Returns:
        The format string, or None when no template was given.

    Raises:
        ConfigError: The name is unknown and the text has no ``{prompt}`` placeholder.
    """
    if template is None:
        return None
    if template in TEMPLATES:
        return TEMPLATES[template]
    if "{prompt}" in template:
        return template
    msg = (
        f"Unknown prompt template {template!r}. Use one of {', '.join(TEMPLATES)}, or a string "
        "containing '{prompt}'."
    )
    raise ConfigError(msg)


__all__ = ["TEMPLATES", "resolve_template"]
