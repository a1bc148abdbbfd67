"""vc_im's test suite, laid out like the package it tests."""
