"""Fulfilment on the business clock (SHIP-*, DLV-*) comes here; see ROADMAP.md."""
