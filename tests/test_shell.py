"""The one private Streamlit setting the app relies on (app/shell.py), watched for changes.

There is no public way to keep a first visit straight to /draw inside `st.navigation` while a
`pages/` folder sits beside the entry point, so `ensure_shell` resets the flag that
`st.navigation` itself resets. If Streamlit renames or drops it, these tests fail first (the
browser test `test_a_first_visit_straight_to_a_page_gets_the_full_app` checks the behaviour).
"""

from __future__ import annotations

import inspect

from streamlit.commands import navigation
from streamlit.runtime.pages_manager import PagesManager


def test_the_pages_directory_flag_is_still_a_class_attribute() -> None:
    assert "uses_pages_directory" in vars(PagesManager)
    assert PagesManager.uses_pages_directory in (None, True, False)


def test_st_navigation_still_turns_the_flag_off_the_way_the_shell_does() -> None:
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)
