"""The gatetwin dashboard: ``streamlit run dashboard/app.py`` (or ``gatetwin dashboard``).

The entry script declares the pages (``dashboard/views``) and runs the one chosen in the
navigation. Each page sets up the session itself (``dashboard.ui.page_setup``: results named
in ``GATETWIN_RESULTS``, the sidebar's choice of the run shown, the progress of background
runs), so a page also works when run on its own, as ``AppTest.switch_page`` does.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="gatetwin - border gate twin", page_icon=":material/local_shipping:", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/replay.py", title="Gate replay", icon=":material/play_circle:", url_path="replay"),
    st.Page("views/compare.py", title="Compare layouts", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("views/sizing.py", title="Size the gate", icon=":material/straighten:", url_path="sizing"),
    st.Page("views/bottlenecks.py", title="Bottlenecks", icon=":material/traffic:", url_path="bottlenecks"),
    st.Page("views/agencies.py", title="Agencies and devices", icon=":material/badge:", url_path="agencies"),
    st.Page("views/run.py", title="Run or open", icon=":material/play_arrow:", url_path="run"),
]

page = st.navigation(PAGES)
# A planner's tool, not a Streamlit app in development: no "Deploy" button, no developer menu.
# The browser learns the toolbar's mode when a script run starts, so the first run after the
# option is set starts again at once, on the page asked for.
if st.get_option("client.toolbarMode") != "viewer":
    st.set_option("client.toolbarMode", "viewer")
    st.switch_page(page)
page.run()
