"""One module per dashboard screen (tab); :mod:`.base` holds the polling they share."""
