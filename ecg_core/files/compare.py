"""What a result gains from a file: the cart's findings, and each of our measurements beside the cart's."""

from __future__ import annotations

from .model import EcgFile

_AXES = ("p_axis", "qrs_axis", "t_axis")
# A QTc the file gives without its formula is set beside our Bazett value (the formula most carts print).
_OURS_FOR = {"qtc": "qtc_bazett"}


def file_fields(source: EcgFile, measurements: dict | None) -> dict:
    fields = {"cart_measurements": source.cart_measurements,
              "cart_lead_measurements": source.cart_lead_measurements,
              "cart_statements": list(source.cart_statements)}
    if measurements is not None:
        fields["measurement_vs_cart"] = measurement_vs_cart(measurements, source.cart_measurements or {})
    return fields


def measurement_vs_cart(ours: dict, cart: dict) -> dict:
    """{name: {"ours", "cart", "difference" (ours − cart; axes wrapped to ±180°), ["compared_with"]}}."""
    table = {}
    for key, cart_value in cart.items():
        our_key = _OURS_FOR.get(key, key)
        our_value = ours.get(our_key)
        entry = {"ours": our_value, "cart": cart_value, "difference": None}
        if isinstance(our_value, (int, float)) and not isinstance(our_value, bool) \
                and isinstance(cart_value, (int, float)):
            difference = our_value - cart_value
            if key in _AXES:
                difference = (difference + 180) % 360 - 180
            entry["difference"] = round(difference, 1)
        if our_key != key:
            entry["compared_with"] = f"our {our_key} (the file does not state its formula)"
        table[key] = entry
    return table
