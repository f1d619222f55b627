"""The tap's settings: declared once (options.py), checked and turned into `Settings` (settings.py
with address.py and credentials.py), and declared again for Meltano from the same table
(meltano_yml.py)."""
