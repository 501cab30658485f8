"""``/`` on a screen with a list (the audit log, the checklist, the runbook): type to keep the
rows whose text holds the words, enter goes back to the list with the filter kept, esc clears
it (a second esc leaves the screen). The count ``12/300`` sits beside the box."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from textual import on
from textual.widget import Widget
from textual.widgets import Input

from screens.common import CockpitScreen
from widgets.filterbar import FilterBar

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.plan import Item
    from cockpit.session import Session

T = TypeVar("T")


class FilteringScreen(CockpitScreen):
    """A screen whose list filters: yield :meth:`filter_bar` in ``compose``, draw only
    :meth:`kept` rows, and say the count with :meth:`show_count`. ``filter_changed`` redraws
    (screens override it); ``filter_target`` is the list the keys go back to."""

    query_text = ""

    def filter_bar(self) -> FilterBar:
        return FilterBar(self.session.t("filter.placeholder." + self.KEYS))

    def filter_target(self) -> Widget | None:
        """The list that has the keys when the box has not. Screens override it."""
        return None

    def filter_changed(self) -> None:
        """Redraw with :attr:`query_text`. Screens override it."""

    def kept(self, rows: Iterable[T], text: Callable[[T], str]) -> list[T]:
        """The rows whose ``text`` holds the filter (case does not matter); all without one."""
        needle = self.query_text.lower()
        if not needle:
            return list(rows)
        return [row for row in rows if needle in text(row).lower()]

    def show_count(self, shown: int, total: int) -> None:
        self.query_one(FilterBar).set_count(shown, total)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the box has the keys, the screen's keys wait (enter and space are priority
        # keys on the lists: typed into the box, they must not tick an item or run a step).
        if action != "back" and self._typing():
            return False
        return super().check_action(action, parameters)

    def _typing(self) -> bool:
        bars = self.query(FilterBar)
        return bool(bars) and bars.first().box.has_focus

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_descendant_focus(self) -> None:
        self.refresh_keys()  # the screen's keys wait while the box has them, and come back

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.filter_changed()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, _event: Input.Submitted) -> None:
        self._back_to_list()

    def _back_to_list(self) -> None:
        target = self.filter_target()
        if target is not None:
            target.focus()

    def clear_filter(self) -> bool:
        """esc: clear the filter when the box has the keys or holds words (then ``True``)."""
        bar = self.query_one(FilterBar)
        if not (bar.box.has_focus or bar.value or bar.is_open):
            return False
        bar.close()
        self.query_text = ""
        self.filter_changed()
        self._back_to_list()
        return True

    def action_back(self) -> None:
        if not self.clear_filter():
            super().action_back()


def item_text(session: Session, checklist: Checklist, item: Item, *more: str) -> str:
    """What a filter looks in for an item of a plan (the checklist's, the runbook's rows): its
    id, both titles, its state (as stored and as said in the UI language), and ``more``."""
    status = checklist.state(item.id).status
    state = session.t("status." + status.value)
    return " ".join((item.id, item.title_ja, item.title_en, status.value, state, *more))
