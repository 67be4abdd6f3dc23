"""completeCheckout: booking and/or buying, with patient creation and payments."""
