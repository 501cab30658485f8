"""The dialog of a fired rollback trigger: which rule fired, its samples, the baseline and the
threshold, and the operator's answer (start the rollback plan, or continue), always with a
reason. It only asks: the metrics screen records the trigger before it opens and the answer after
it closes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from screens.keys import bindings

if TYPE_CHECKING:
    from collections.abc import Callable

    from cockpit.events import Event


class TriggerScreen(ModalScreen[tuple[str, str] | None]):
    """A rollback trigger fired: which rule, the samples, the baseline; ``r`` starts the rollback
    plan, ``c`` continues; either with a reason (recorded)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("trigger")
    DEFAULT_CSS = """
    TriggerScreen { align: center middle; }
    TriggerScreen #dialog {
        width: 74; max-width: 95%; height: auto; max-height: 100%; overflow-y: auto;
        border: heavy $error; padding: 0 1; background: $panel;
    }
    TriggerScreen #dialog > Static { height: auto; }
    TriggerScreen #dialog > #reason { border: none; height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, title: str, body: str, hint: str) -> None:
        super().__init__()
        self.title_text, self.body, self.hint = title, body, hint

    @classmethod
    def for_event(cls, t: Callable[..., str], event: Event) -> TriggerScreen:
        """The dialog for the trigger recorded as ``event`` (``trigger.fired``, its details: the
        rule, samples, baseline and threshold), now or later; ``t`` translates (session.t)."""
        from cockpit.metrics import format_value

        fired, unit = event.details_obj, str(event.details_obj.get("unit", ""))
        samples = "  ".join(format_value(s["value"], unit) for s in fired.get("samples", ()))
        base = fired.get("baseline")
        base = format_value(base, unit) if base is not None else "-"
        threshold = format_value(float(fired.get("threshold", 0)), unit)
        body = "\n".join(
            [
                t("met.trigger_rule", rule=fired.get("rule", event.subject)),
                t("met.trigger_samples", samples=samples),
                t(
                    "met.trigger_base",
                    base=base,
                    threshold=threshold,
                ),
                f"{fired.get('source')}: {fired.get('query')}",
                t("met.reason"),
            ]
        )
        return cls(t("met.trigger_title", seq=event.seq), body, t("met.trigger_keys"))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="title")
            yield Static(self.body, id="body")
            yield Input(id="reason")
            yield Static(self.hint, id="hint")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def action_choose(self, choice: str) -> None:
        """``rollback`` or ``continue`` (ctrl+r / ctrl+o, screens.keys), with the reason typed."""
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#hint", Static).update(self.hint + "  <- a reason first")
            return
        self.dismiss((choice, reason))

    @on(Input.Submitted)
    def submitted(self, _event: Input.Submitted) -> None:
        self.query_one("#hint", Static).update(self.hint)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
