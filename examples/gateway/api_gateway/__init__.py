"""An API gateway in front of upstream HTTP services, as one faasport function."""
