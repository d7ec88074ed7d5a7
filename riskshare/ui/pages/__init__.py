"""The app's pages, one Streamlit script each (System, Reconcile, Agreement, Scenarios,
Compare, Optimise, Fairness, Workshop), routed by app.py."""
