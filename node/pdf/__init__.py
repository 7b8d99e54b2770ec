"""PDF documents made by the node with reportlab (ARCHITECTURE §9).

Every document is built from plain frozen dataclasses (never from GUI
objects), is written in its recipient's language, and is returned as
bytes: the caller decides where it goes.

- :mod:`node.pdf.layout` — the one layout module: letterhead, address
  window, page numbers, tables, metadata.
- :mod:`node.pdf.formats` — amounts, dates and identifiers per language.
- :mod:`node.pdf.epc_qr` — the EPC payment QR code (EPC069-12).
- :mod:`node.pdf.call_for_funds` — the call-for-funds notice.
- :mod:`node.pdf.charge_statement` — the yearly statement of charges.
"""
