// Entry point: replaced by the component's own main.
