"""One package per paper: its data, protocol, metrics and claims."""
