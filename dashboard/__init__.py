"""The Streamlit dashboard for planners and stakeholders.

``dashboard/app.py`` is the entry script (``gatetwin dashboard`` or
``streamlit run dashboard/app.py``); the pages are in ``dashboard/views``. The numbers and
figures the pages show are computed in plain modules that do not need Streamlit:
``replay`` (trucks at each place at a moment), ``analysis`` (hourly tables, queues, outages,
agencies) and ``charts`` (matplotlib figures). ``jobs`` runs scenarios in the background and
caches their results; ``state`` keeps what one browser session has open.
"""
