"""The ``vc-im`` command line (vc_im.cli), in process and as real processes."""
