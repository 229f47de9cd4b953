from hive.cli.main import run

run()
