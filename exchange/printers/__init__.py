"""Label printers: a label rendered for a Brother QL (raster via brother_ql_next) or a Zebra (ZPL),
sent over a raw TCP socket (port 9100). Pure Python: no Django."""
