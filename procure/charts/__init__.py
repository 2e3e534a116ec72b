"""Charts: pure functions from result tables (DataFrames) to plotly figures, one module per
topic; used by the app and by the command line, tested without Streamlit."""
