"""SalesOps domain layer: tables, rules, queries and analytics. Never imports streamlit."""
