"""Everything that writes fulfilment rows: one module per topic, one function per business action.

``partners`` (SHIP-SUBCONTRACTOR), ``packing`` (mark packed, packing slips), ``queue`` (the staff work
queue and digest, SHIP-BUSINESS-HOURS), ``shipments`` (SHIP-METHODS, SHIP-NOTICES, the PayPal
tracker), ``delivery`` (DLV-*), ``stockout`` (SHIP-STOCKOUT). Callers import the module they need.
"""
