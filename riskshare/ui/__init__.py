"""The Streamlit app (entry point app.py): session state (`state`), cached library calls
(`cache`), tables, scenario controls and Markdown-safe user text (`text`); the pages are in
`pages/`. Nothing outside this package imports Streamlit."""
