"""Claims and refund due dates (REF-*) come here; see ROADMAP.md."""
