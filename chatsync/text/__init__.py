"""Text made safe to print, and secrets taken out of it."""
