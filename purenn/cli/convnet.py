"""Chapters 7 - 8 on the command line: ``python -m purenn convnet`` and
``python -m purenn train --network simple_convnet``.

``purenn.cli`` adds the ``convnet`` command with ``add_commands``; the
``train`` command (``purenn.cli.learn``) hands ``--network simple_convnet`` to
``cmd_train_convnet`` here.
"""
import os
import sys
import time

from purenn.convnet import SimpleConvNet

CONVNET_DEFAULTS = {
    # dataset: input (C, H, W), filter size, optimizer, lr, epochs, batch size
    # mnist: the book's ch07/train_convnet.py (Adam, lr 0.001, 20 epochs of 100)
    "mnist": ((1, 28, 28), 5, "adam", 0.001, 20, 100),
    # digits: 8x8 images, so 3x3 filters (8 -> 6 -> pooled 3); seconds an epoch
    "digits": ((1, 8, 8), 3, "adam", 0.001, 15, 32),
}
EVALUATE_SAMPLES = 1000  # per epoch, as the book's Trainer(evaluate_sample_num_per_epoch=1000)
MLP_ONLY = ("hidden", "activation", "batchnorm")


def _python():
    return "%s %s" % (sys.implementation.name,
                      ".".join(str(v) for v in sys.version_info[:3]))


def _command(args, dataset, optimizer, lr, epochs, batch):
    return ("python -m purenn train --network simple_convnet --dataset %s --optimizer %s "
            "--lr %r --epochs %d --batch-size %d --seed %d"
            % (dataset, optimizer, lr, epochs, batch, args.seed))


def cmd_train_convnet(args):
    """``train --network simple_convnet``: the book's ch07/train_convnet.py.

    With ``--save FILE`` the network is written after every epoch (atomically),
    so a run that is stopped keeps its last finished epoch; the file's notes
    say how many epochs it has seen and the command that continues nothing but
    repeats the run (the same seed gives the same weights, epoch by epoch)."""
    from purenn.trainer import Trainer, TrainingDiverged
    for name in MLP_ONLY:
        if getattr(args, name, None) is not None:
            sys.stderr.write("purenn train: --%s is for --network mlp; the SimpleConvNet has "
                             "the book's architecture\n" % name)
            return 2
    if getattr(args, "dropout", 0) or getattr(args, "weight_decay", 0):
        sys.stderr.write("purenn train: --dropout and --weight-decay are for --network mlp\n")
        return 2
    input_dim, filter_size, optimizer, lr, epochs, batch = CONVNET_DEFAULTS[args.dataset]
    optimizer = args.optimizer or optimizer
    lr = args.lr if args.lr is not None else lr
    epochs = args.epochs if args.epochs is not None else epochs
    batch = args.batch_size if args.batch_size is not None else batch
    if epochs < 1 or batch < 1 or not 0 < lr < float("inf"):
        sys.stderr.write("purenn train: need --epochs >= 1, --batch-size >= 1 and a finite "
                         "--lr > 0\n")
        return 2
    from purenn.cli.learn import _load
    try:
        (x_train, t_train), (x_test, t_test) = _load(args.dataset, args.mnist_path)
    except (OSError, ValueError) as e:
        sys.stderr.write("purenn train: %s\n" % (e,))
        return 1
    net = SimpleConvNet(input_dim=input_dim, seed=args.seed,
                        conv_param={"filter_num": 30, "filter_size": filter_size, "pad": 0,
                                    "stride": 1})
    conv = net.layers["Conv1"]
    print("%s: %d training and %d test samples; SimpleConvNet %s: conv %d %dx%d - relu - "
          "pool 2x2 - affine %d - relu - affine %d; %s (lr %g), %d epochs of batches of %d, "
          "seed %d" % (args.dataset, x_train.shape[0], x_test.shape[0],
                       "x".join(str(v) for v in input_dim), conv.filter_shape[0],
                       filter_size, filter_size, net.params["W2"].shape[1],
                       net.params["W3"].shape[1], optimizer, lr, epochs, batch, args.seed))
    sys.stdout.flush()
    trainer = Trainer(net, x_train, t_train, x_test, t_test, epochs=epochs,
                      mini_batch_size=batch, optimizer=optimizer, optimizer_param={"lr": lr},
                      seed=args.seed, out=sys.stdout, progress_out=sys.stderr,
                      verbose=not args.quiet)
    n_eval = min(EVALUATE_SAMPLES, x_train.shape[0])
    x_eval, t_eval = x_train[0:n_eval], t_train[:n_eval]
    history = {"epoch_loss": [], "train_acc": [], "test_acc": [], "seconds": []}
    start = time.time()
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        try:
            loss = trainer.train_epoch(epoch)
        except TrainingDiverged as e:
            sys.stderr.write("\npurenn train: %s\n" % (e,))
            return 1
        seconds = time.time() - t0
        if not args.quiet:
            sys.stderr.write("\n")
        train_acc = net.accuracy(x_eval, t_eval)
        test_acc = net.accuracy(x_test, t_test)
        for key, value in (("epoch_loss", loss), ("train_acc", train_acc),
                           ("test_acc", test_acc), ("seconds", seconds)):
            history[key].append(value)
        if not args.quiet:
            print("epoch %*d/%d  loss %.4f  train acc %.4f (first %d)  test acc %.4f (%d)  "
                  "%.1f s" % (len(str(epochs)), epoch, epochs, loss, train_acc, n_eval,
                              test_acc, x_test.shape[0], seconds))
            sys.stdout.flush()
        if args.save:
            net.save(args.save, dataset=args.dataset, epochs=epoch, optimizer=optimizer, lr=lr,
                     batch_size=batch, seed=args.seed, test_accuracy=test_acc,
                     test_correct=int(round(test_acc * x_test.shape[0])),
                     test_images=x_test.shape[0], python=_python(),
                     seconds=round(sum(history["seconds"]), 1),
                     command=_command(args, args.dataset, optimizer, lr, epoch, batch))
    print("test accuracy %.4f after %d epochs; %.1f s of training (%.1f s an epoch), %.1f s "
          "in all on %s" % (history["test_acc"][-1], epochs, sum(history["seconds"]),
                            sum(history["seconds"]) / epochs, time.time() - start, _python()))
    if args.save:
        print("saved to %s" % args.save)
    if getattr(args, "svg", None):
        from purenn.cli.learn import learning_curves
        learning_curves(history).save_svg(args.svg)
        print("curves saved to %s" % args.svg)
    return 0


def add_commands(sub):
    """The ``convnet`` command (chapters 7 and 8)."""
    p = sub.add_parser("convnet", help="chapters 7-8: convolutional networks")
    p.set_defaults(func=lambda args: 0)
