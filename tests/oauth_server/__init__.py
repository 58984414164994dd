"""A real OAuth 2.0 authorization server (django-oauth-toolkit) run in a subprocess for the test suite.

See fixture.py for how to use it.
"""
