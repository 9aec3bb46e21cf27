"""User interfaces: the ``hemicycle`` CLI and the Streamlit app."""

__all__ = ["cli", "services"]
