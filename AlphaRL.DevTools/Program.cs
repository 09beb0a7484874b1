return AlphaRl.DevTools.DevToolsCli.Run(args);
