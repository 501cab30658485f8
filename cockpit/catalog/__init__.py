"""The catalog's words, by where they are said: screens and dialogs (:mod:`.screens`), the
engine's refusals and reasons (:mod:`.refusals`, :mod:`.engine`), notices, notes, reports and the
browser view (:mod:`.comms`), bad input (:mod:`.errors`; a bad config or plan file and a
refused URL: :mod:`.files`), why a metrics panel has no value (:mod:`.metrics`), time, event
verbs and the tagging preflight (:mod:`.words`). :mod:`cockpit.i18n` merges them into one
catalog and says them."""
