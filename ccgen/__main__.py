from ccgen.cli import run

run()
