"""``python -m vc_im`` runs the command line."""

from vc_im.cli import main

main()
