"""Built-in methods of every family, registered through the public plugin API."""
