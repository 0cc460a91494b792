"""The browser page of the local server (``/ui``): static assets, and the few routes the page needs."""
