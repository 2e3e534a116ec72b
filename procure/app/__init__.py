"""The Streamlit app (``streamlit run app.py``): one module per page, ``shared`` for what the
pages share (the session's workbook, cached solves, money and error display).

Page modules draw their page when Streamlit runs them as a script (``render()``); importing
them draws nothing. docs/app.md describes the pages.
"""
