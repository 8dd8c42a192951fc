"""Data in: reading files, parsing columns, mapping and validation, the sample shop, exports."""
