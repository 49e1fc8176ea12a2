"""Keras versions of the series' architectures, the ``keras.Model.fit`` baseline in benchmarks.

The notebooks build the same networks from tf ops (so their backward passes can be written by
hand); these Keras twins exist only to time Keras' own training loop on the same layer shapes.
FLOPs are multiply-adds x 2 of the convolutions and matmuls, forward pass, per image.
"""
from __future__ import annotations


def all_cnn_c(keras, pool: bool = False, size: int = 32):
    """All-CNN-C (stride-2 convs) or ConvPool-CNN-C (mean pooling), the article's layer list."""
    L = keras.layers
    conv = lambda c, k=3, s=1: L.Conv2D(c, k, strides=s, padding="same", use_bias=False,
                                         activation="elu")
    layers = [keras.Input((size, size, 3)), conv(96), conv(96)]
    layers += [conv(192), L.AveragePooling2D(2)] if pool else [conv(192, s=2)]
    layers += [conv(192), conv(192)]
    layers += [conv(192), L.AveragePooling2D(2)] if pool else [conv(192, s=2)]
    layers += [conv(192), conv(192, 1), conv(10, 1), L.GlobalAveragePooling2D()]
    return keras.Sequential(layers)


def paper_all_cnn_c(keras, size: int = 32, weight_decay: float = 1e-3):
    """Springenberg et al.'s All-CNN-C as notebook 03's paper recipe trains it: ReLU and biases,
    dropout 0.2 on the input and 0.5 after each stride-2 layer, layer 7 VALID, weight decay
    0.5 * weight_decay * sum(w^2) (Keras' L2 adds its factor times the sum, without the half)."""
    L = keras.layers
    decay = keras.regularizers.L2(0.5 * weight_decay)
    conv = lambda c, k=3, s=1, pad="same": L.Conv2D(c, k, strides=s, padding=pad,
                                                     activation="relu", kernel_regularizer=decay)
    return keras.Sequential([
        keras.Input((size, size, 3)), L.Dropout(0.2), conv(96), conv(96), conv(96, s=2),
        L.Dropout(0.5), conv(192), conv(192), conv(192, s=2), L.Dropout(0.5),
        conv(192, pad="valid"), conv(192, 1), conv(10, 1), L.GlobalAveragePooling2D()])


def wrn(keras, depth: int = 16, k: int = 8, size: int = 32):
    """WRN-d-k, pre-activation blocks, 1x1 projection shortcuts, stride-2 downsampling."""
    L = keras.layers
    n = (depth - 4) // 6
    x = inp = keras.Input((size, size, 3))
    x = L.Conv2D(16, 3, padding="same", use_bias=False)(x)
    for group, width in enumerate((16 * k, 32 * k, 64 * k)):
        for b in range(n):
            stride = 2 if (group > 0 and b == 0) else 1
            h = L.ReLU()(L.BatchNormalization()(x))
            shortcut = x if (x.shape[-1] == width and stride == 1) else \
                L.Conv2D(width, 1, strides=stride, use_bias=False)(h)
            h = L.Conv2D(width, 3, strides=stride, padding="same", use_bias=False)(h)
            h = L.ReLU()(L.BatchNormalization()(h))
            h = L.Conv2D(width, 3, padding="same", use_bias=False)(h)
            x = L.Add()([h, shortcut])
    x = L.ReLU()(L.BatchNormalization()(x))
    x = L.Dense(10)(L.GlobalAveragePooling2D()(x))
    return keras.Model(inp, x)


def forward_flops(model) -> float:
    """Forward FLOPs per image of the Conv2D and Dense layers (2 x multiply-adds)."""
    total = 0.0
    for layer in model.layers:
        name = type(layer).__name__
        if name == "Conv2D":
            kh, kw, cin, cout = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            total += 2.0 * kh * kw * cin * cout * h * w
        elif name == "Dense":
            total += 2.0 * layer.kernel.shape[0] * layer.kernel.shape[1]
    return total


def tree_net(keras, width: int = 84, dense: int = 1645, size: int = 32):
    """The tree-net article's network (notebook 01): conv/dense -> BN (no scale) -> ReLU units."""
    L = keras.layers

    def unit(x, c, k=3, s=1):
        if len(x.shape) == 4:
            x = L.Conv2D(c, k, strides=s, padding="same", use_bias=False)(x)
        else:
            x = L.Dense(c, use_bias=False)(x)
        return L.ReLU()(L.BatchNormalization(scale=False, epsilon=1e-3)(x))

    def block(x, c, s=1):
        conv = len(x.shape) == 4
        main = unit(unit(x, c, 3, s), c) if conv else unit(unit(x, c), c)
        return L.Add()([main, unit(x, c, 1, s) if conv else unit(x, c)])

    x = inp = keras.Input((size, size, 3))
    x = block(block(x, width, 2), width, 2)
    h3 = L.Add()([block(x, width) for _ in range(3)])
    b1, b2, b3 = (block(h3, width) for _ in range(3))
    x = L.Concatenate()([L.Add()([b1, b2]), L.Add()([b2, b3]), L.Add()([b1, b3])])
    x = block(L.Flatten()(x), dense)
    return keras.Model(inp, block(x, 10))


def article_wrn(keras, widths=(128, 256, 512), size: int = 32):
    """The WRN article's network (notebook 04) with real batch norm: stem, three groups of a
    projection block (3x3 shortcut) and a pre-activation identity block, average pooling."""
    L = keras.layers
    conv = lambda c: L.Conv2D(c, 3, padding="same", use_bias=False)
    bn_relu = lambda x: L.ReLU()(L.BatchNormalization()(x))
    x = inp = keras.Input((size, size, 3))
    x = L.AveragePooling2D(2)(bn_relu(conv(16)(x)))
    for c in widths:
        x = L.Add()([conv(c)(bn_relu(conv(c)(x))), conv(c)(x)])
        x = L.Add()([x, conv(c)(bn_relu(conv(c)(bn_relu(x))))])
        x = L.AveragePooling2D(2)(x)
    x = bn_relu(conv(10)(x))
    return keras.Model(inp, L.GlobalAveragePooling2D()(x))
