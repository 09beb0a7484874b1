return AlphaRl.Cli.AlphaRlCli.Run(args);
