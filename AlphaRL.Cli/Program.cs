return AlphaRl.Cli.AlphaRLCli.Run(args);
