"""Every sentence a learner reads, in one catalogue per language (``demo/texts/<language>.toml``).

The views, the page, the service and the core keep only markup: they ask for a text by its key and fill its named
placeholders with figures from the model and the data. This is the lowest layer: anything may use it, it imports
nothing of the app.
"""

from .catalogue import (
    LANGUAGE,
    LANGUAGES,
    Later,
    current_language,
    decimal,
    entries,
    for_script,
    keys,
    language_names,
    localised,
    plain,
    say,
    use_language,
)
from .choice import chosen_language

__all__ = ["LANGUAGE", "LANGUAGES", "Later", "chosen_language", "current_language", "decimal", "entries",
           "for_script", "keys", "language_names", "localised", "plain", "say", "use_language"]
