# base: release
