"""The evaluation tab (Zhou Zhihua, Machine Learning, ch. 2): is model A really better than B? Every number is
measured here, on small classifiers trained on the bundled MNIST / Fashion-MNIST pairs and seeded 2-D blobs.

1. Splitting: hold-out (stratified or not), k-fold, bootstrap; where the samples land, the estimate and its spread;
   the bootstrap's out-of-bag fraction -> 1/e.
2. Scores: a threshold over a real classifier's scores -> confusion matrix, P, R, F1, F_beta and the current point on
   the P-R and ROC curves; AUC beside 1 - l_rank; macro vs micro averages on a 10-class k-NN.
3. Costs: a cost matrix -> the cost-sensitive error and the cost curve (lower envelope).
4. Tests: binomial and t-test on one learner; paired t-test over k folds, 5x2 cv, McNemar for two; Friedman +
   Nemenyi over every data set with the critical-difference diagram.
5. Bias-variance: polynomials of growing degree on many resampled training sets of sin(2 pi x).

The math is genlib.evaluation; this module checks the input, calls it and draws.
"""
from __future__ import annotations

import functools
import html
import math
import re

import gradio as gr
import numpy as np

from demos import ui
from demos.ui.panels import intra_op_threads
from genlib import evaluation as ev

TAB_ID = "evaluation"  # notes/<lang>/evaluation.md, links ?tab=evaluation
API_PREFIX = "eval"  # api names eval_<action> (issue 15)
TITLE = "eval_title"
MODELS = ()  # nothing pre-trained: every classifier is trained here, in milliseconds

# Choice labels are the UI strings eval_data_<data set>, eval_learner_<learner>, eval_split_<method> (ui.choices);
# LEARNER_NAMES names a learner the UI strings do not know (tests add one).
LEARNER_NAMES: dict[str, str] = {}
SPLIT_METHODS = ["holdout", "kfold", "bootstrap"]
MAX_REPEATS = 30  # split repeats per request
MAX_K = 20  # folds
MAX_FITS = 120  # models trained per split request
FRIEDMAN_SETS = [("mnist_3v5", 1.0), ("mnist_4v9", 1.0), ("mnist_7v9", 1.0), ("mnist_1v7", 1.0),
                 ("fashion_shirt_v_tshirt", 1.0), ("fashion_pullover_v_coat", 1.0), ("fashion_sneaker_v_boot", 1.0),
                 ("blobs", 0.8), ("blobs", 1.6)]  # (data set, blob noise): N = 9 data sets for the Friedman test
FRIEDMAN_FOLDS = 5
MAX_DEGREE = 15  # bias-variance capacities 0..MAX_DEGREE
ROLE_COLORS = {"train": "#93c5fd", "test": "#f97316", "twice": "#1d4ed8", "oob": "#f97316"}

ui.add_strings(
    en={
        "eval_title": "Evaluation",
        "eval_split_h": "## 1 · Hold-out, cross-validation, bootstrap",
        "eval_split_intro": "Each square is one sample, sorted by class (positives first). The estimate is the test "
                            "error of the learner; repeats use new random splits.",
        "eval_dataset": "Data set",
        "eval_learner": "Learner",
        "eval_noise": "Noise of the 2-D blobs",
        "eval_method": "Method",
        "eval_test_fraction": "Hold-out: test share",
        "eval_stratified": "Stratified (keep the class shares)",
        "eval_k": "k (folds)",
        "eval_repeats": "Repeats",
        "eval_seed": "Seed",
        "eval_run": "Run",
        "eval_oob_h": "### The bootstrap misses (1 − 1/n)ⁿ → 1/e of the samples",
        "eval_scores_h": "## 2 · Confusion matrix, P–R and ROC",
        "eval_scores_intro": "The learner is trained on 70 % of the data (stratified); its scores on the other 30 % are "
                             "cut at the threshold: everything at or above it is predicted positive.",
        "eval_threshold": "Threshold",
        "eval_beta": "β of F_β",
        "eval_multi_h": "### Macro vs micro: a 10-class k-NN",
        "eval_source": "Data",
        "eval_knn_k": "k of k-NN",
        "eval_costs_h": "## 3 · Costs and the cost curve",
        "eval_costs_intro": "Rows: true class (positive, negative); columns: predicted. The classifier and threshold "
                            "are those of section 2.",
        "eval_cost": "Cost matrix",
        "eval_tests_h": "## 4 · Is A really better than B?",
        "eval_tests_intro": "The first two learners ticked are A and B for the paired tests; the Friedman test ranks "
                            "every ticked learner on nine data sets (5-fold cross-validation each).",
        "eval_learners": "Learners",
        "eval_alpha": "Significance level α",
        "eval_eps0": "ε₀ for the one-learner tests",
        "eval_bv_h": "## 5 · Bias and variance",
        "eval_bv_intro": "Polynomials of degree 0 to 15 fitted to many training sets drawn from sin(2πx) plus noise.",
        "eval_bv_noise": "Label noise σ",
        "eval_bv_n": "Training points per set",
        "eval_bv_sets": "Training sets",
        "eval_data_mnist_3v5": "MNIST 3 vs 5", "eval_data_mnist_4v9": "MNIST 4 vs 9", "eval_data_mnist_7v9": "MNIST 7 vs 9",
        "eval_data_mnist_1v7": "MNIST 1 vs 7", "eval_data_fashion_shirt_v_tshirt": "Fashion-MNIST shirt vs T-shirt",
        "eval_data_fashion_pullover_v_coat": "Fashion-MNIST pullover vs coat",
        "eval_data_fashion_sneaker_v_boot": "Fashion-MNIST sneaker vs ankle boot", "eval_data_blobs": "2-D blobs",
        "eval_learner_logistic": "logistic regression", "eval_learner_perceptron": "perceptron", "eval_learner_knn1": "1-NN",
        "eval_learner_knn7": "7-NN", "eval_learner_stump": "decision stump",
        "eval_split_holdout": "hold-out", "eval_split_kfold": "k-fold cross-validation", "eval_split_bootstrap": "bootstrap",
        "eval_fashion_0": "T-shirt", "eval_fashion_1": "trouser", "eval_fashion_2": "pullover", "eval_fashion_3": "dress", "eval_fashion_4": "coat", "eval_fashion_5": "sandal", "eval_fashion_6": "shirt", "eval_fashion_7": "sneaker", "eval_fashion_8": "bag", "eval_fashion_9": "ankle boot",
        "eval_arg_dataset": "data set", "eval_arg_learner": "learner", "eval_arg_noise": "blob noise",
        "eval_arg_method": "method", "eval_arg_test_share": "test share", "eval_arg_stratified": "stratified",
        "eval_arg_repeats": "repeats", "eval_arg_threshold": "threshold", "eval_arg_data": "data",
        "eval_arg_bv_noise": "noise", "eval_arg_points": "training points", "eval_arg_sets": "training sets",
        "eval_msg_too_many_fits": "repeats: {repeats} repeats of {k}-fold would train {fits} models; using {used} (at most "
                                  "{max} per request)",
        "eval_msg_roles_count": "{pos} positives, then {neg} negatives",
        "eval_msg_on": "{learner} on {dataset}",
        "eval_msg_train": "train", "eval_msg_test": "test", "eval_msg_fold1": "fold 1", "eval_msg_fold2": "fold 2 ...",
        "eval_msg_drawn_once": "drawn once", "eval_msg_drawn_twice": "drawn ≥ 2×", "eval_msg_never": "never: test",
        "eval_msg_stratified": ", stratified",
        "eval_msg_what_holdout": "hold-out, {share:.0%} test{stratified}",
        "eval_msg_what_kfold": "{k}-fold cross-validation{stratified}",
        "eval_msg_what_bootstrap": "bootstrap, out-of-bag test",
        "eval_msg_first_splits": "{what}: the first {n} split{s}",
        "eval_msg_test_error": "test error", "eval_msg_mean": "mean",
        "eval_msg_estimates_title": "error estimate per repeat ({what})",
        "eval_msg_spread": " ± {sd:.3f} (standard deviation over {repeats} repeats)",
        "eval_msg_split": "{name}, n = {n}, {what}: error {mean:.3f}{spread}.",
        "eval_msg_oob_share": " Out-of-bag share in the first split: {share:.3f} vs (1 − 1/n)ⁿ = {theory:.3f}.",
        "eval_msg_measured": "measured (20 draws)", "eval_msg_oob_title": "out-of-bag share against log₁₀ n",
        "eval_msg_oob": "n = 2000: measured {measured:.4f}, (1 − 1/n)ⁿ = {theory:.4f}, 1/e = {e:.4f}.",
        "eval_msg_true_pos": "true +", "eval_msg_true_neg": "true −", "eval_msg_pred_pos": "pred +",
        "eval_msg_pred_neg": "pred −", "eval_msg_cm_title": "confusion matrix (share of the test set)",
        "eval_msg_precision": "precision", "eval_msg_break_even": "break-even P = R",
        "eval_msg_pr_title": "P–R curve (x: recall)", "eval_msg_chance": "chance", "eval_msg_roc_title": "ROC curve (x: FPR)",
        "eval_msg_scores": "{name}, {n} test samples ({pos} positive), threshold {threshold:.3f}: {counts}. P = {P:.3f}, "
                           "R = {R:.3f}, F1 = {F1:.3f}, F_β(β = {beta:g}) = {Fb:.3f}, error {error:.3f}. AUC = {auc:.4f} "
                           "and 1 − ℓ_rank = {rank:.4f} (equal); average precision {ap:.4f}; break-even point {bep:.3f} "
                           "at threshold {bep_t:.3f}. ROC point (FPR, TPR) = ({fpr:.3f}, {tpr:.3f}).",
        "eval_msg_knn_title": "{k}-NN, rows: true class (share of the row)",
        "eval_msg_class": "class", "eval_msg_macro": "macro", "eval_msg_micro": "micro",
        "eval_msg_multiclass": "{n} test images. Macro-F1 (from macro-P and macro-R, the book) {macro:.4f}; mean of the "
                               "per-class F1 {mean:.4f}; micro-F1 {micro:.4f} = accuracy {accuracy:.4f} (every sample is a "
                               "false positive of one class exactly when it is a false negative of another).",
        "eval_msg_cost_not_number": "a cost entry is not a number",
        "eval_msg_this_threshold": "this threshold", "eval_msg_envelope": "lower envelope (best threshold)",
        "eval_msg_all_negative": "all negative", "eval_msg_all_positive": "all positive",
        "eval_msg_cost_title": "normalised cost against P(+)cost",
        "eval_msg_costs": "cost01 = {c01:g} (a positive called negative), cost10 = {c10:g}; positive share p = {p:.3f}, so "
                          "P(+)cost = {pc:.3f}. Threshold {threshold:.3f}: cost-sensitive error {error:.4f}; the best "
                          "threshold ({best_t:.3f}) gives {best:.4f}. Area under the envelope (expected total cost over "
                          "all P(+)cost): {area:.4f}.",
        "eval_msg_rejected": "rejected", "eval_msg_not_rejected": "not rejected",
        "eval_msg_verdict": "H0 ({h0}) {word} at α = {alpha:g}",
        "eval_msg_ignored": "learners: ignored {ignored}, not among {known}",
        "eval_msg_alpha": "The significance level α must lie strictly between 0 and 1, not {alpha}.",
        "eval_msg_two_learners": "Tick at least two learners: a comparison needs two.",
        "eval_msg_table_head": "| test | statistic | distribution under H0 | critical value | p-value | verdict |",
        "eval_msg_h0_binomial": "ε ≤ {eps0:g} for {A}", "eval_msg_h0_t": "μ = {eps0:g} for {A}",
        "eval_msg_h0_paired": "{A} = {B}, {k} folds", "eval_msg_h0_same": "{A} = {B}",
        "eval_msg_h0_holdout": "{A} = {B} on one hold-out set", "eval_msg_h0_all": "all learners alike",
        "eval_msg_cd_title": "mean ranks over N = {N} data sets (1 = best), Nemenyi α = {alpha:g}",
        "eval_msg_vs": "{a} vs {b}",
        "eval_msg_tests": "A = {A}, B = {B} on {dataset}: {k}-fold mean error {ea:.3f} vs {eb:.3f}; on the hold-out set "
                          "e01 = {e01} (A wrong, B right), e10 = {e10}. Nemenyi CD = {cd:.3f} (q_α = {q:.3f}, k = {n}, "
                          "N = {N}): ",
        "eval_msg_significant": "significantly different: {pairs}.",
        "eval_msg_none_significant": "no pair is significantly different.",
        "eval_msg_not_applied": "the ranks differ by more than CD for {pairs}, but the Friedman F test does not reject, so "
                                "the post-hoc test is not applied.",
        "eval_msg_bias2": "bias²", "eval_msg_bias_var": "bias² + variance", "eval_msg_bias_var_noise": "bias² + variance + noise",
        "eval_msg_measured_error": "measured test error", "eval_msg_training_error": "training error",
        "eval_msg_bv_title": "error against polynomial degree (cut at 2)",
        "eval_msg_bv": "{sets} training sets of {n} points, σ = {noise:g}: the lowest test error {best_error:.4f} is at "
                       "degree {best} (bias² {b2:.4f}, variance {var:.4f}, noise {noise_part:.4f}); degree 0: bias² "
                       "{b2_0:.4f}, variance {var_0:.4f}; degree {last}: bias² {b2_last:.4f}, variance {var_last:.3g}.",
        "eval_msg_name_binomial": "binomial", "eval_msg_name_t": "t-test", "eval_msg_name_paired": "paired t-test",
        "eval_msg_name_5x2": "5x2 cv t-test", "eval_msg_name_mcnemar": "McNemar",
        "eval_msg_name_mcnemar_cc": "McNemar (continuity-corrected)",
        "eval_msg_name_friedman_chi2": "Friedman chi2", "eval_msg_name_friedman_f": "Friedman F",
        "eval_msg_binomial_dist": "Binomial", "eval_msg_chi2_dist": "chi2",
        "eval_msg_err_zero_var_t": "every error rate is the same (zero variance): the t statistic is undefined (a 0 in the "
                                   "denominator); use more test samples or repeats",
        "eval_msg_err_zero_var_paired": "the two learners differ by the same amount on every fold (zero variance, e.g. "
                                        "identical learners): the t statistic is undefined",
        "eval_msg_err_zero_var_5x2": "every fold of every replication gives the same difference (zero variance, e.g. "
                                     "identical learners): the 5x2 cv statistic is undefined",
        "eval_msg_err_mcnemar": "the two learners are right and wrong on exactly the same samples (e01 + e10 = 0): "
                                "McNemar's statistic is 0/0, there is nothing to test",
        "eval_msg_err_cost_numbers": "the cost matrix must hold numbers",
        "eval_msg_err_cost_shape": "the cost matrix must be 2 x 2, not {shape}",
        "eval_msg_err_cost_empty": "a cost entry is empty, NaN or infinite; every entry needs a number",
        "eval_msg_err_cost_negative": "costs cannot be negative",
        "eval_msg_err_cost_diagonal": "a correct prediction costs nothing: the diagonal of the cost matrix must be 0",
        "eval_msg_err_cost_zero": "both error costs are 0: every classifier is then free, and there is nothing to compare",
        "eval_msg_err_train_one_class": "the training set holds only one class: a classifier needs both (an empty class)",
        "eval_msg_err_test_one_class": "the test set holds only one class: P-R and ROC curves need positives and negatives",
        "eval_msg_err_folds": "k = {k} folds is more than the n = {n} samples: some folds would be empty",
        "eval_msg_err_knn": "k-NN needs 1 <= k <= n: k = {k}, n = {n} training points",
        "eval_msg_err": "{reason}.",
    },
    zh={
        "eval_title": "模型评估",
        "eval_split_h": "## 1 · 留出法、交叉验证法、自助法",
        "eval_split_intro": "每个方块是一个样本，按类别排列（正例在前）。估计值是学习器的测试误差；每次重复都重新随机划分。",
        "eval_dataset": "数据集",
        "eval_learner": "学习器",
        "eval_noise": "二维高斯团的噪声",
        "eval_method": "方法",
        "eval_test_fraction": "留出法：测试集比例",
        "eval_stratified": "分层采样（保持类别比例）",
        "eval_k": "k（折数）",
        "eval_repeats": "重复次数",
        "eval_seed": "随机种子",
        "eval_run": "运行",
        "eval_oob_h": "### 自助法漏掉 (1 − 1/n)ⁿ → 1/e 的样本",
        "eval_scores_h": "## 2 · 混淆矩阵、P–R 曲线与 ROC 曲线",
        "eval_scores_intro": "学习器在 70% 的数据上训练（分层采样）；它在其余 30% 上的得分按阈值切分：得分不低于阈值的预测为正例。",
        "eval_threshold": "阈值",
        "eval_beta": "Fβ 中的 β",
        "eval_multi_h": "### 宏平均与微平均：十类的 k 近邻",
        "eval_source": "数据",
        "eval_knn_k": "近邻数 k",
        "eval_costs_h": "## 3 · 代价与代价曲线",
        "eval_costs_intro": "行：真实类别（正例、反例）；列：预测类别。分类器和阈值取自第 2 节。",
        "eval_cost": "代价矩阵",
        "eval_tests_h": "## 4 · A 真的比 B 好吗？",
        "eval_tests_intro": "勾选的前两个学习器作为成对检验的 A 和 B；Friedman 检验在九个数据集上（各做 5 折交叉验证）"
                            "给所有勾选的学习器排序。",
        "eval_learners": "学习器",
        "eval_alpha": "显著度 α",
        "eval_eps0": "单个学习器检验的 ε₀",
        "eval_bv_h": "## 5 · 偏差与方差",
        "eval_bv_intro": "在 `sin(2πx)` 加噪声生成的许多训练集上拟合 0 到 15 次多项式。",
        "eval_bv_noise": "标记噪声 σ",
        "eval_bv_n": "每个训练集的样本数",
        "eval_bv_sets": "训练集个数",
        "eval_data_mnist_3v5": "MNIST 3 对 5", "eval_data_mnist_4v9": "MNIST 4 对 9", "eval_data_mnist_7v9": "MNIST 7 对 9",
        "eval_data_mnist_1v7": "MNIST 1 对 7", "eval_data_fashion_shirt_v_tshirt": "Fashion-MNIST 衬衫对 T 恤",
        "eval_data_fashion_pullover_v_coat": "Fashion-MNIST 套头衫对外套",
        "eval_data_fashion_sneaker_v_boot": "Fashion-MNIST 运动鞋对短靴", "eval_data_blobs": "二维高斯团",
        "eval_learner_logistic": "对数几率回归", "eval_learner_perceptron": "感知机", "eval_learner_knn1": "1 近邻",
        "eval_learner_knn7": "7 近邻", "eval_learner_stump": "决策树桩",
        "eval_split_holdout": "留出法", "eval_split_kfold": "k 折交叉验证", "eval_split_bootstrap": "自助法",
        "eval_fashion_0": "T 恤", "eval_fashion_1": "裤子", "eval_fashion_2": "套头衫", "eval_fashion_3": "连衣裙", "eval_fashion_4": "外套", "eval_fashion_5": "凉鞋", "eval_fashion_6": "衬衫", "eval_fashion_7": "运动鞋", "eval_fashion_8": "包", "eval_fashion_9": "短靴",
        "eval_arg_dataset": "数据集", "eval_arg_learner": "学习器", "eval_arg_noise": "高斯团噪声",
        "eval_arg_method": "方法", "eval_arg_test_share": "测试集比例", "eval_arg_stratified": "分层采样",
        "eval_arg_repeats": "重复次数", "eval_arg_threshold": "阈值", "eval_arg_data": "数据",
        "eval_arg_bv_noise": "噪声", "eval_arg_points": "训练样本数", "eval_arg_sets": "训练集个数",
        "eval_msg_too_many_fits": "重复次数：{repeats} 次 {k} 折交叉验证要训练 {fits} 个模型；改用 {used} 次（每个请求最多 {max} 个）",
        "eval_msg_roles_count": "先是 {pos} 个正例，然后是 {neg} 个反例",
        "eval_msg_on": "{learner}，数据集 {dataset}",
        "eval_msg_train": "训练", "eval_msg_test": "测试", "eval_msg_fold1": "第 1 折", "eval_msg_fold2": "第 2 折 ……",
        "eval_msg_drawn_once": "抽中一次", "eval_msg_drawn_twice": "抽中 ≥ 2 次", "eval_msg_never": "从未抽中：测试",
        "eval_msg_stratified": "，分层采样",
        "eval_msg_what_holdout": "留出法，{share:.0%} 测试{stratified}",
        "eval_msg_what_kfold": "{k} 折交叉验证{stratified}",
        "eval_msg_what_bootstrap": "自助法，包外样本作测试",
        "eval_msg_first_splits": "{what}：前 {n} 次划分",
        "eval_msg_test_error": "测试误差", "eval_msg_mean": "平均值",
        "eval_msg_estimates_title": "每次重复的误差估计（{what}）",
        "eval_msg_spread": " ± {sd:.3f}（{repeats} 次重复的标准差）",
        "eval_msg_split": "{name}，n = {n}，{what}：误差 {mean:.3f}{spread}。",
        "eval_msg_oob_share": "第一次划分中包外样本的比例：{share:.3f}，对比 (1 − 1/n)ⁿ = {theory:.3f}。",
        "eval_msg_measured": "实测（20 次抽样）", "eval_msg_oob_title": "包外样本比例随 log₁₀ n 的变化",
        "eval_msg_oob": "n = 2000：实测 {measured:.4f}，(1 − 1/n)ⁿ = {theory:.4f}，1/e = {e:.4f}。",
        "eval_msg_true_pos": "真实 +", "eval_msg_true_neg": "真实 −", "eval_msg_pred_pos": "预测 +",
        "eval_msg_pred_neg": "预测 −", "eval_msg_cm_title": "混淆矩阵（占测试集的比例）",
        "eval_msg_precision": "查准率", "eval_msg_break_even": "平衡点 P = R",
        "eval_msg_pr_title": "P–R 曲线（横轴：查全率）", "eval_msg_chance": "随机猜测", "eval_msg_roc_title": "ROC 曲线（横轴：FPR）",
        "eval_msg_scores": "{name}，{n} 个测试样本（{pos} 个正例），阈值 {threshold:.3f}：{counts}。P = {P:.3f}，R = {R:.3f}，"
                           "F1 = {F1:.3f}，F_β(β = {beta:g}) = {Fb:.3f}，错误率 {error:.3f}。AUC = {auc:.4f}，1 − ℓ_rank = "
                           "{rank:.4f}（两者相等）；平均查准率 {ap:.4f}；平衡点 {bep:.3f}，对应阈值 {bep_t:.3f}。ROC 上的点 "
                           "(FPR, TPR) = ({fpr:.3f}, {tpr:.3f})。",
        "eval_msg_knn_title": "{k} 近邻，行：真实类别（占该行的比例）",
        "eval_msg_class": "类别", "eval_msg_macro": "宏平均", "eval_msg_micro": "微平均",
        "eval_msg_multiclass": "{n} 张测试图像。宏 F1（由宏查准率和宏查全率算出，书中的定义）{macro:.4f}；各类 F1 的平均 "
                               "{mean:.4f}；微 F1 {micro:.4f} = 准确率 {accuracy:.4f}（一个样本是某一类的假正例，恰好当它是另"
                               "一类的假反例）。",
        "eval_msg_cost_not_number": "有一个代价不是数字",
        "eval_msg_this_threshold": "当前阈值", "eval_msg_envelope": "下包络线（最佳阈值）",
        "eval_msg_all_negative": "全判为反例", "eval_msg_all_positive": "全判为正例",
        "eval_msg_cost_title": "归一化代价随 P(+)cost 的变化",
        "eval_msg_costs": "cost01 = {c01:g}（正例被判为反例），cost10 = {c10:g}；正例比例 p = {p:.3f}，所以 P(+)cost = "
                          "{pc:.3f}。阈值 {threshold:.3f}：代价敏感错误率 {error:.4f}；最佳阈值（{best_t:.3f}）给出 "
                          "{best:.4f}。包络线下的面积（在所有 P(+)cost 上的期望总体代价）：{area:.4f}。",
        "eval_msg_rejected": "被拒绝", "eval_msg_not_rejected": "未被拒绝",
        "eval_msg_verdict": "H0（{h0}）在 α = {alpha:g} 下{word}",
        "eval_msg_ignored": "学习器：忽略了 {ignored}，它们不在 {known} 中",
        "eval_msg_alpha": "显著度 α 必须严格介于 0 和 1 之间，而不是 {alpha}。",
        "eval_msg_two_learners": "请至少勾选两个学习器：比较需要两个。",
        "eval_msg_table_head": "| 检验 | 统计量 | H0 下的分布 | 临界值 | p 值 | 结论 |",
        "eval_msg_h0_binomial": "{A} 的 ε ≤ {eps0:g}", "eval_msg_h0_t": "{A} 的 μ = {eps0:g}",
        "eval_msg_h0_paired": "{A} = {B}，{k} 折", "eval_msg_h0_same": "{A} = {B}",
        "eval_msg_h0_holdout": "在同一个留出集上 {A} = {B}", "eval_msg_h0_all": "所有学习器相同",
        "eval_msg_cd_title": "在 N = {N} 个数据集上的平均序值（1 = 最好），Nemenyi α = {alpha:g}",
        "eval_msg_vs": "{a} 对 {b}",
        "eval_msg_tests": "A = {A}，B = {B}，数据集 {dataset}：{k} 折平均错误率 {ea:.3f} 对 {eb:.3f}；在留出集上 e01 = {e01}"
                          "（A 错 B 对），e10 = {e10}。Nemenyi CD = {cd:.3f}（q_α = {q:.3f}，k = {n}，N = {N}）：",
        "eval_msg_significant": "有显著差别的：{pairs}。",
        "eval_msg_none_significant": "没有哪一对有显著差别。",
        "eval_msg_not_applied": "{pairs} 的序值之差超过 CD，但 Friedman F 检验没有拒绝，所以不做后续检验。",
        "eval_msg_bias2": "偏差²", "eval_msg_bias_var": "偏差² + 方差", "eval_msg_bias_var_noise": "偏差² + 方差 + 噪声",
        "eval_msg_measured_error": "实测测试误差", "eval_msg_training_error": "训练误差",
        "eval_msg_bv_title": "误差随多项式次数的变化（在 2 处截断）",
        "eval_msg_bv": "{sets} 个训练集，每个 {n} 个样本，σ = {noise:g}：最低测试误差 {best_error:.4f} 出现在 {best} 次"
                       "（偏差² {b2:.4f}，方差 {var:.4f}，噪声 {noise_part:.4f}）；0 次：偏差² {b2_0:.4f}，方差 "
                       "{var_0:.4f}；{last} 次：偏差² {b2_last:.4f}，方差 {var_last:.3g}。",
        "eval_msg_name_binomial": "二项检验", "eval_msg_name_t": "t 检验", "eval_msg_name_paired": "成对 t 检验",
        "eval_msg_name_5x2": "5×2 交叉验证 t 检验", "eval_msg_name_mcnemar": "McNemar 检验",
        "eval_msg_name_mcnemar_cc": "McNemar 检验（连续性校正）",
        "eval_msg_name_friedman_chi2": "Friedman χ² 检验", "eval_msg_name_friedman_f": "Friedman F 检验",
        "eval_msg_binomial_dist": "二项分布", "eval_msg_chi2_dist": "χ²",
        "eval_msg_err_zero_var_t": "所有错误率都相同（方差为零）：t 统计量无定义（分母为 0）；请用更多测试样本或更多重复",
        "eval_msg_err_zero_var_paired": "两个学习器在每一折上的差都相同（方差为零，例如两个相同的学习器）：t 统计量无定义",
        "eval_msg_err_zero_var_5x2": "每次重复的每一折给出的差都相同（方差为零，例如两个相同的学习器）：5×2 交叉验证统计量无定义",
        "eval_msg_err_mcnemar": "两个学习器在完全相同的样本上对、在完全相同的样本上错（e01 + e10 = 0）：McNemar 统计量是 0/0，"
                                "没有什么可检验的",
        "eval_msg_err_cost_numbers": "代价矩阵必须由数字组成",
        "eval_msg_err_cost_shape": "代价矩阵必须是 2 × 2，而不是 {shape}",
        "eval_msg_err_cost_empty": "有一个代价为空、NaN 或无穷大；每一项都需要一个数",
        "eval_msg_err_cost_negative": "代价不能为负",
        "eval_msg_err_cost_diagonal": "正确的预测没有代价：代价矩阵的对角线必须为 0",
        "eval_msg_err_cost_zero": "两种错误的代价都是 0：那么每个分类器都不花代价，没有什么可比较的",
        "eval_msg_err_train_one_class": "训练集里只有一个类别：分类器需要两个类别（有一个类别是空的）",
        "eval_msg_err_test_one_class": "测试集里只有一个类别：P–R 曲线和 ROC 曲线既需要正例也需要反例",
        "eval_msg_err_folds": "k = {k} 折多于 n = {n} 个样本：有些折会是空的",
        "eval_msg_err_knn": "k 近邻需要 1 ≤ k ≤ n：k = {k}，n = {n} 个训练样本",
        "eval_msg_err": "{reason}。",
    },
)


def one_thread(fn):
    """Run a callback with one torch intra-op thread (restored after): the learners' matrix work is small, and on
    two shared cores a second thread only waits (a logistic regression fit took 0.04 s on one thread and 0.2-0.8 s
    with two while the other core was busy)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with intra_op_threads(1):
            return fn(*args, **kwargs)
    return run


_REASONS = [  # genlib.evaluation's ValueError texts the page can meet -> the UI string that says the same
    (r"every error rate is the same \(zero variance\).*", "eval_msg_err_zero_var_t"),
    (r"the two learners differ by the same amount on every fold.*", "eval_msg_err_zero_var_paired"),
    (r"every fold of every replication gives the same difference.*", "eval_msg_err_zero_var_5x2"),
    (r"the two learners are right and wrong on exactly the same samples.*", "eval_msg_err_mcnemar"),
    (r"the cost matrix must hold numbers", "eval_msg_err_cost_numbers"),
    (r"the cost matrix must be 2 x 2, not (?P<shape>.*)", "eval_msg_err_cost_shape"),
    (r"a cost entry is empty, NaN or infinite.*", "eval_msg_err_cost_empty"),
    (r"costs cannot be negative", "eval_msg_err_cost_negative"),
    (r"a correct prediction costs nothing.*", "eval_msg_err_cost_diagonal"),
    (r"both error costs are 0.*", "eval_msg_err_cost_zero"),
    (r"a cost entry is not a number", "eval_msg_cost_not_number"),
    (r"the training set holds only one class.*", "eval_msg_err_train_one_class"),
    (r"the test set holds only one class.*", "eval_msg_err_test_one_class"),
    (r"k = (?P<k>\d+) folds is more than the n = (?P<n>\d+) samples.*", "eval_msg_err_folds"),
    (r"k-NN needs 1 <= k <= n: k = (?P<k>\d+), n = (?P<n>\d+) training points", "eval_msg_err_knn"),
]


def _reason(e: Exception) -> str:
    """A genlib.evaluation error in the request's language (its own English text when it is not one of _REASONS)."""
    text = str(e).rstrip(".")
    for pattern, key in _REASONS:
        if m := re.fullmatch(pattern, text, flags=re.DOTALL):
            return ui.say(key, **m.groupdict())
    return text


def _err(e: Exception) -> str:
    return ui.say("eval_msg_err", reason=_reason(e))


def _learner(x: str) -> str:
    """A learner's name in the request's language (LEARNER_NAMES for one the UI strings do not know)."""
    key = f"eval_learner_{x}"
    return ui.say(key) if key in ui.STRINGS["en"] else LEARNER_NAMES.get(x, x)


def _dataset(x: str) -> str:
    return ui.say(f"eval_data_{x}")


def _inputs(c: ui.Clamped, dataset, learner, noise) -> tuple[str, str, float]:
    return (c.choice("eval_arg_dataset", dataset, ev.DATASETS, "mnist_3v5"),
            c.choice("eval_arg_learner", learner, list(ev.LEARNERS), "logistic"),
            c.float("eval_arg_noise", noise, 0.2, 3.0, 1.0))


@functools.lru_cache(maxsize=32)
def _data(dataset: str, noise: float) -> tuple[np.ndarray, np.ndarray]:
    return ev.load_dataset(dataset, noise=noise, seed=0)


def _test_error(learner: str, X, y, train, test, seed: int = 0) -> float:
    return float(np.mean((ev.fit_score(learner, X[train], y[train], X[test], seed) >= 0.5) != y[test]))


# ---- Section 1: splitting -------------------------------------------------------------------------------------
def _roles_svg(y: np.ndarray, roles: list[np.ndarray], legend: list[tuple[str, str]], title: str) -> str:
    """One square per sample (positives first), one row of squares per split shown; colour = the sample's role."""
    order = np.r_[np.flatnonzero(y == 1), np.flatnonzero(y == 0)]
    cols, cell = 50, 8
    n_rows = math.ceil(len(y) / cols)
    parts, top = [f'<text x="2" y="12" font-size="12">{html.escape(title)}</text>'], 20
    for r, role in enumerate(roles):
        for i, j in enumerate(order):
            x, yy = 2 + (i % cols) * cell, top + (i // cols) * cell
            parts.append(f'<rect x="{x}" y="{yy}" width="{cell - 1}" height="{cell - 1}" fill="{role[j]}"/>')
        top += n_rows * cell + 10
    split = int(y.sum())
    parts.append(f'<text x="2" y="{top + 10}" font-size="10">'
                 f'{html.escape(ui.say("eval_msg_roles_count", pos=split, neg=len(y) - split))}</text>')
    for k, (color, label) in enumerate(legend):
        parts.append(f'<rect x="{200 + 95 * k}" y="{top + 2}" width="9" height="9" fill="{color}"/>'
                     f'<text x="{212 + 95 * k}" y="{top + 10}" font-size="10">{html.escape(label)}</text>')
    width, height = 2 + cols * cell + 4, top + 16
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(parts)}</svg>')


@one_thread
def split_view(dataset="mnist_3v5", learner="logistic", noise=1.0, method="holdout", test_fraction=0.3,
               stratified=True, k=10, repeats=10, seed=0):
    """Split, train, estimate -> (where the samples land svg, the estimates svg, status)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    method = c.choice("eval_arg_method", method, SPLIT_METHODS, "holdout")
    test_fraction = c.float("eval_arg_test_share", test_fraction, 0.05, 0.95, 0.3)
    stratified = c.flag("eval_arg_stratified", stratified)
    k = c.int("k", k, 2, MAX_K, 10)
    repeats = c.int("eval_arg_repeats", repeats, 1, MAX_REPEATS, 10)
    if method == "kfold" and repeats * k > MAX_FITS:
        c.messages.append(ui.say("eval_msg_too_many_fits", repeats=repeats, k=k, fits=repeats * k, used=MAX_FITS // k,
                                 max=MAX_FITS))
        repeats = MAX_FITS // k
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    X, y = _data(dataset, noise)
    n = len(y)
    estimates, roles = [], []
    try:
        for r in range(repeats):
            if method == "holdout":
                train, test = ev.hold_out(y, test_fraction, stratified, seed + r)
                role = np.full(n, ROLE_COLORS["train"], dtype=object)
                role[test] = ROLE_COLORS["test"]
                estimates.append(_test_error(learner, X, y, train, test, seed + r))
            elif method == "kfold":
                folds = ev.k_fold(y, k, stratified, seed + r)
                role = np.empty(n, dtype=object)
                errs = []
                for f, test in enumerate(folds):
                    role[test] = ui.svg.COLORS[f % len(ui.svg.COLORS)]
                    errs.append(_test_error(learner, X, y, np.setdiff1d(np.arange(n), test), test, seed + r))
                estimates.append(float(np.mean(errs)))
            else:
                drawn, oob = ev.bootstrap(n, seed + r)
                counts = np.bincount(drawn, minlength=n)
                role = np.where(counts == 0, ROLE_COLORS["oob"], np.where(counts == 1, ROLE_COLORS["train"],
                                                                            ROLE_COLORS["twice"])).astype(object)
                estimates.append(_test_error(learner, X, y, drawn, oob, seed + r))
            if r < 2:
                roles.append(role)
    except ValueError as e:
        return "", "", ui.status(c, _err(e), "error")
    name = ui.say("eval_msg_on", learner=_learner(learner), dataset=_dataset(dataset))
    strat = ui.say("eval_msg_stratified") if stratified else ""
    if method == "holdout":
        legend = [(ROLE_COLORS["train"], ui.say("eval_msg_train")), (ROLE_COLORS["test"], ui.say("eval_msg_test"))]
        what = ui.say("eval_msg_what_holdout", share=test_fraction, stratified=strat)
    elif method == "kfold":
        legend = [(ui.svg.COLORS[0], ui.say("eval_msg_fold1")), (ui.svg.COLORS[1], ui.say("eval_msg_fold2"))]
        what = ui.say("eval_msg_what_kfold", k=k, stratified=strat)
    else:
        legend = [(ROLE_COLORS["train"], ui.say("eval_msg_drawn_once")), (ROLE_COLORS["twice"], ui.say("eval_msg_drawn_twice")),
                  (ROLE_COLORS["oob"], ui.say("eval_msg_never"))]
        what = ui.say("eval_msg_what_bootstrap")
    where = _roles_svg(y, roles, legend, ui.say("eval_msg_first_splits", what=what, n=len(roles),
                                                s="s" if len(roles) > 1 else ""))
    est = np.array(estimates)
    curve = ui.svg.lines_svg({ui.say("eval_msg_test_error"): est, ui.say("eval_msg_mean"): np.full(len(est), est.mean())},
                             np.arange(1, len(est) + 1), title=ui.say("eval_msg_estimates_title", what=what))
    spread = ui.say("eval_msg_spread", sd=est.std(ddof=1), repeats=repeats) if repeats > 1 else ""
    text = ui.say("eval_msg_split", name=name, n=n, what=what, mean=est.mean(), spread=spread)
    if method == "bootstrap":
        text += ui.say("eval_msg_oob_share", share=np.mean(roles[0] == ROLE_COLORS["oob"]), theory=ev.oob_probability(n))
    return where, curve, ui.status(c, text)


@one_thread
def oob_view(seed=0):
    """The measured out-of-bag share of the bootstrap (mean of 20 draws) for n = 2 ... 2000, (1 - 1/n)^n and 1/e."""
    c = ui.Clamped()
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    ns = np.unique(np.round(np.geomspace(2, 2000, 40)).astype(int))
    measured = [np.mean([len(ev.bootstrap(int(n), seed + r)[1]) / n for r in range(20)]) for n in ns]
    svg = ui.svg.lines_svg({ui.say("eval_msg_measured"): np.array(measured),
                            "(1 − 1/n)ⁿ": ev.oob_probability(ns.astype(float)), "1/e": np.full(len(ns), math.exp(-1))},
                           np.log10(ns), title=ui.say("eval_msg_oob_title"))
    return svg, ui.status(c, ui.say("eval_msg_oob", measured=measured[-1], theory=ev.oob_probability(2000), e=math.exp(-1)))


# ---- Section 2: confusion matrix, P-R, ROC ------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def holdout_scores(dataset: str, learner: str, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) of the learner on a stratified 30 % hold-out set (seed 0): the classifier of sections 2, 3."""
    X, y = _data(dataset, noise)
    train, test = ev.hold_out(y, 0.3, True, 0)
    return y[test], ev.fit_score(learner, X[train], y[train], X[test], 0)


def _curve_index(thresholds: np.ndarray, t: float) -> int:
    """The curve point of threshold t: the last distinct score >= t (thresholds descend)."""
    return max(int(np.sum(thresholds >= t)) - 1, 0)


@one_thread
def scores_view(dataset="mnist_3v5", learner="logistic", noise=1.0, threshold=0.5, beta=1.0):
    """Threshold -> (confusion matrix svg, P-R svg, ROC svg, status with P, R, F1, F_beta, AUC, 1 - l_rank, AP, BEP)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    threshold = c.float("eval_arg_threshold", threshold, 0.0, 1.0, 0.5)
    beta = c.float("β", beta, 0.1, 10.0, 1.0)
    y, s = holdout_scores(dataset, learner, noise)
    k = ev.confusion(y, s >= threshold)
    cm = ui.svg.heatmap_svg(np.array([[k.tp, k.fn], [k.fp, k.tn]]) / len(y),
                            [ui.say("eval_msg_true_pos"), ui.say("eval_msg_true_neg")],
                            [ui.say("eval_msg_pred_pos"), ui.say("eval_msg_pred_neg")], ui.say("eval_msg_cm_title"))
    counts = f"TP = {k.tp}, FN = {k.fn}, FP = {k.fp}, TN = {k.tn}"
    P, R, pr_thr = ev.pr_curve(y, s)
    fpr, tpr, roc_thr = ev.roc_curve(y, s)
    i = _curve_index(pr_thr, threshold)
    j = _curve_index(roc_thr, threshold) if k.tp + k.fp else 0  # nothing predicted positive: the point (0, 0)
    pr_svg = ui.svg.lines_svg({ui.say("eval_msg_precision"): np.r_[P[0], P], ui.say("eval_msg_break_even"): np.r_[0.0, R]},
                              np.r_[0.0, R], title=ui.say("eval_msg_pr_title"), marker=i + 1 if k.tp + k.fp else None)
    roc_svg = ui.svg.lines_svg({"TPR": tpr, ui.say("eval_msg_chance"): fpr}, fpr, title=ui.say("eval_msg_roc_title"),
                               marker=j)
    roc_auc, l_rank = ev.auc(fpr, tpr), ev.rank_loss(y, s)
    bep, bep_t = ev.break_even_point(y, s)
    text = ui.say("eval_msg_scores", name=ui.say("eval_msg_on", learner=_learner(learner), dataset=_dataset(dataset)),
                  n=len(y), pos=int(y.sum()), threshold=threshold, counts=counts, P=k.precision, R=k.recall,
                  F1=k.f_beta(1), beta=beta, Fb=k.f_beta(beta), error=k.error, auc=roc_auc, rank=1 - l_rank,
                  ap=ev.average_precision(y, s), bep=bep, bep_t=bep_t, fpr=fpr[j], tpr=tpr[j])
    return cm, pr_svg, roc_svg, ui.status(c, text)


@functools.lru_cache(maxsize=4)
def _multiclass(source: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = ev.load_multiclass(source)
    train, test = ev.hold_out(y, 0.3, True, 0)
    return y[test], ev.knn_multiclass(X[train], y[train], X[test], k)


@one_thread
def multiclass_view(source="mnist", k=5):
    """A 10-class k-NN on the bundled digits or clothes -> (confusion matrix svg, macro / micro table, status)."""
    c = ui.Clamped()
    source = c.choice("eval_arg_data", source, ["mnist", "fashion"], "mnist")
    k = c.int("k", k, 1, 25, 5)
    y, pred = _multiclass(source, k)
    C = ev.confusion_matrix(y, pred, 10)
    names = [str(d) for d in range(10)] if source == "mnist" else [ui.say(f"eval_fashion_{i}") for i in range(10)]
    cm = ui.svg.heatmap_svg(C / C.sum(1, keepdims=True), names, names, ui.say("eval_msg_knn_title", k=k),
                            numbers=False, cell=(20, 16))
    mm = ev.macro_micro(C)
    rows = "".join(f"| {nm} | {p:.3f} | {r:.3f} | {f:.3f} |\n" for nm, p, r, f in
                   zip(names, mm["per_class_P"], mm["per_class_R"], mm["per_class_F1"]))
    table = (f"| {ui.say('eval_msg_class')} | P | R | F1 |\n|---|---|---|---|\n" + rows +
             f"| **{ui.say('eval_msg_macro')}** | {mm['macro_P']:.3f} | {mm['macro_R']:.3f} | {mm['macro_F1']:.3f} |\n"
             f"| **{ui.say('eval_msg_micro')}** | {mm['micro_P']:.3f} | {mm['micro_R']:.3f} | {mm['micro_F1']:.3f} |\n")
    text = ui.say("eval_msg_multiclass", n=len(y), macro=mm["macro_F1"], mean=mm["mean_F1"], micro=mm["micro_F1"],
                  accuracy=np.mean(y == pred))
    return cm, table, ui.status(c, text)


# ---- Section 3: costs ----------------------------------------------------------------------------------------
def _cost_matrix(table) -> np.ndarray:
    if isinstance(table, dict):
        table = table.get("data")
    try:
        rows = [[float("nan") if v in (None, "") else float(v) for v in row] for row in (table or [])]
    except (TypeError, ValueError):
        raise ValueError(ui.say("eval_msg_cost_not_number")) from None
    return ev.check_costs(rows)


@one_thread
def cost_view(dataset="mnist_3v5", learner="logistic", noise=1.0, threshold=0.5, cost=None):
    """Cost matrix -> (cost curve svg, status: cost-sensitive error at the threshold and at the best threshold)."""
    c = ui.Clamped()
    dataset, learner, noise = _inputs(c, dataset, learner, noise)
    threshold = c.float("eval_arg_threshold", threshold, 0.0, 1.0, 0.5)
    try:
        C = _cost_matrix([[0, 1], [1, 0]] if cost is None else cost)
    except ValueError as e:
        return "", ui.status(c, _err(e), "error")
    y, s = holdout_scores(dataset, learner, noise)
    fpr, tpr, thr = ev.roc_curve(y, s)
    x, lines, env = ev.cost_curve(fpr, tpr)
    k = ev.confusion(y, s >= threshold)
    fpr_t, fnr_t = k.fp / (k.fp + k.tn), k.fn / (k.fn + k.tp)
    p = float(y.mean())
    pc = float(ev.positive_cost_share(p, C))
    marker = int(round(pc * (len(x) - 1)))
    svg = ui.svg.lines_svg({ui.say("eval_msg_this_threshold"): ev.normalized_cost(fpr_t, fnr_t, x),
                            ui.say("eval_msg_envelope"): env, ui.say("eval_msg_all_negative"): x,
                            ui.say("eval_msg_all_positive"): 1 - x}, x, title=ui.say("eval_msg_cost_title"), marker=marker)
    errs = [ev.cost_sensitive_error(y, s >= t, C) for t in thr]
    best = int(np.argmin(errs))
    text = ui.say("eval_msg_costs", c01=C[0, 1], c10=C[1, 0], p=p, pc=pc, threshold=threshold,
                  error=ev.cost_sensitive_error(y, s >= threshold, C), best_t=min(thr[best], 1.0), best=errs[best],
                  area=float(np.mean(env[:-1] + env[1:]) / 2))
    return svg, ui.status(c, text)


# ---- Section 4: hypothesis tests ---------------------------------------------------------------------------------
TEST_KEYS = {"binomial": "binomial", "t-test": "t", "paired t-test": "paired", "5x2 cv t-test": "5x2", "McNemar": "mcnemar",
             "McNemar (continuity-corrected)": "mcnemar_cc", "Friedman chi2": "friedman_chi2", "Friedman F": "friedman_f"}
# genlib.evaluation's test names -> the UI strings eval_msg_name_<key>


def _verdict(r: ev.TestResult, h0: str) -> str:
    word = ui.say("eval_msg_rejected" if r.reject else "eval_msg_not_rejected")
    key = f"eval_msg_name_{TEST_KEYS.get(r.name, r.name)}"
    name = ui.say(key) if key in ui.STRINGS["en"] else r.name
    dist = r.distribution.replace("Binomial", ui.say("eval_msg_binomial_dist")).replace("chi2", ui.say("eval_msg_chi2_dist"))
    return (f"| {name} | {r.statistic:.4g} | {dist} | {r.critical:.4g} | {r.p_value:.4g} | "
            f"{ui.say('eval_msg_verdict', h0=h0, word=word, alpha=r.alpha)} |")


def _fold_errors(learner, X, y, folds, seed) -> np.ndarray:
    n = len(y)
    return np.array([_test_error(learner, X, y, np.setdiff1d(np.arange(n), f), f, seed) for f in folds])


def cd_diagram_svg(ranks: np.ndarray, names: list[str], cd: float, title: str) -> str:
    """The critical-difference diagram (Demsar 2006): mean ranks on an axis 1..k, a bar of length CD, and a thick
    line joining learners whose ranks differ by less than CD (not significantly different)."""
    k = len(ranks)
    width, left, right = 520, 30, 490
    px = lambda r: left + (right - left) * (r - 1) / max(k - 1, 1)  # noqa: E731
    parts = [f'<text x="4" y="14" font-size="12">{html.escape(title)}</text>',
             f'<line x1="{left}" y1="50" x2="{right}" y2="50" stroke="#111827"/>']
    for r in range(1, k + 1):
        parts.append(f'<line x1="{px(r):.1f}" y1="45" x2="{px(r):.1f}" y2="50" stroke="#111827"/>'
                     f'<text x="{px(r):.1f}" y="42" font-size="10" text-anchor="middle">{r}</text>')
    parts.append(f'<line x1="{px(1):.1f}" y1="26" x2="{px(1 + cd):.1f}" y2="26" stroke="#dc2626" stroke-width="2"/>'
                 f'<text x="{px(1 + cd) + 4:.1f}" y="30" font-size="10" fill="#dc2626">CD = {cd:.3f}</text>')
    order = np.argsort(ranks)
    for row, i in enumerate(order):
        y = 70 + 16 * row
        parts.append(f'<line x1="{px(ranks[i]):.1f}" y1="50" x2="{px(ranks[i]):.1f}" y2="{y}" stroke="#6b7280"/>'
                     f'<circle cx="{px(ranks[i]):.1f}" cy="50" r="3" fill="#2563eb"/>'
                     f'<text x="{px(ranks[i]) + 4:.1f}" y="{y + 4}" font-size="10">{html.escape(names[i])} '
                     f'({ranks[i]:.2f})</text>')
    groups, y = [], 60 + 16 * k
    for a in range(k):  # maximal runs of learners (sorted by rank) within CD of each other
        b = a
        while b + 1 < k and ranks[order[b + 1]] - ranks[order[a]] <= cd:
            b += 1
        if b > a and not any(g[0] <= a and b <= g[1] for g in groups):
            groups.append((a, b))
    for g, (a, b) in enumerate(groups):
        yy = y + 8 * g
        parts.append(f'<line x1="{px(ranks[order[a]]) - 3:.1f}" y1="{yy}" x2="{px(ranks[order[b]]) + 3:.1f}" y2="{yy}" '
                     f'stroke="#111827" stroke-width="3"/>')
    height = y + 8 * len(groups) + 8
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(parts)}</svg>')


@one_thread
def tests_view(learners=("logistic", "knn7", "stump"), dataset="mnist_4v9", k=10, alpha=0.05, eps0=0.1, seed=0):
    """Train, test, compare -> (table of tests (Markdown), CD diagram svg, status)."""
    c = ui.Clamped()
    if isinstance(learners, str):
        learners = [learners]
    chosen = [x for x in (learners or []) if x in ev.LEARNERS]
    if len(chosen) != len(learners or []):
        c.messages.append(ui.say("eval_msg_ignored", ignored=sorted(set(learners or []) - set(chosen)),
                                 known=list(ev.LEARNERS)))
    chosen = list(dict.fromkeys(chosen))
    dataset = c.choice("eval_arg_dataset", dataset, ev.DATASETS, "mnist_4v9")
    k = c.int("k", k, 2, MAX_K, 10)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    eps0 = c.float("ε0", eps0, 0.01, 0.99, 0.1)
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        alpha = float("nan")
    if not 0 < alpha < 1:  # NaN fails too
        return "", "", ui.status(c, ui.say("eval_msg_alpha", alpha=repr(alpha)), "error")
    if len(chosen) < 2:
        return "", "", ui.status(c, ui.say("eval_msg_two_learners"), "error")
    a, b = chosen[0], chosen[1]
    A, B = _learner(a), _learner(b)
    X, y = _data(dataset, 1.0)
    rows = [ui.say("eval_msg_table_head"), "|---|---|---|---|---|---|"]
    notes = []
    # one learner: binomial test on a hold-out set, t-test on k fold error rates
    train, test = ev.hold_out(y, 0.3, True, seed)
    wrong = {x: (ev.fit_score(x, X[train], y[train], X[test], seed) >= 0.5) != y[test] for x in (a, b)}
    rows.append(_verdict(ev.binomial_test(int(wrong[a].sum()), len(test), eps0, alpha),
                         ui.say("eval_msg_h0_binomial", eps0=eps0, A=A)))
    folds = ev.k_fold(y, k, True, seed)
    errs = {x: _fold_errors(x, X, y, folds, seed) for x in (a, b)}
    same, holdout = ui.say("eval_msg_h0_same", A=A, B=B), ui.say("eval_msg_h0_holdout", A=A, B=B)
    for test_fn, h0 in ((lambda: ev.t_test(errs[a], eps0, alpha), ui.say("eval_msg_h0_t", eps0=eps0, A=A)),
                        (lambda: ev.paired_t_test(errs[a], errs[b], alpha), ui.say("eval_msg_h0_paired", A=A, B=B, k=k)),
                        (lambda: ev.cv_5x2_t_test(_five_by_two(a, b, X, y, seed), alpha), same),
                        (lambda: ev.mcnemar(wrong[a], wrong[b], alpha, True)[0], holdout),
                        (lambda: ev.mcnemar(wrong[a], wrong[b], alpha, False)[0], holdout)):
        try:
            rows.append(_verdict(test_fn(), h0))
        except ValueError as e:
            notes.append(_err(e))
    e01, e10 = int((wrong[a] & ~wrong[b]).sum()), int((~wrong[a] & wrong[b]).sum())
    # Friedman + Nemenyi over N data sets
    E = np.array([[_cv_error(x, d, nz, seed) for x in chosen] for d, nz in FRIEDMAN_SETS])  # (N, k)
    chi, F, ranks = ev.friedman(E, alpha)
    rows += [_verdict(chi, ui.say("eval_msg_h0_all")), _verdict(F, ui.say("eval_msg_h0_all"))]
    N = len(FRIEDMAN_SETS)
    cd = ev.nemenyi_cd(len(chosen), N, alpha)
    diagram = cd_diagram_svg(ranks, [_learner(x) for x in chosen], cd, ui.say("eval_msg_cd_title", N=N, alpha=alpha))
    pairs = [ui.say("eval_msg_vs", a=_learner(chosen[i]), b=_learner(chosen[j])) for i in range(len(chosen))
             for j in range(i + 1, len(chosen)) if abs(ranks[i] - ranks[j]) > cd]
    text = (ui.say("eval_msg_tests", A=A, B=B, dataset=_dataset(dataset), k=k, ea=errs[a].mean(), eb=errs[b].mean(),
                   e01=e01, e10=e10, cd=cd, q=ev.nemenyi_q(len(chosen), alpha), n=len(chosen), N=N)
            + (ui.say("eval_msg_significant", pairs=", ".join(pairs)) if pairs and F.reject else
               ui.say("eval_msg_none_significant") if not pairs else
               ui.say("eval_msg_not_applied", pairs=", ".join(pairs))))
    return "\n".join(rows), diagram, ui.status(c, " ".join([text] + notes), "warn" if notes else "info")


@functools.lru_cache(maxsize=256)
def _cv_error(learner: str, dataset: str, noise: float, seed: int) -> float:
    """Mean FRIEDMAN_FOLDS-fold cross-validation error of a learner on one data set (cached: the Friedman table)."""
    X, y = _data(dataset, noise)
    return float(_fold_errors(learner, X, y, ev.k_fold(y, FRIEDMAN_FOLDS, True, seed), seed).mean())


def first_tests() -> tuple[str, str, str]:
    """The tests at the default settings, computed once per process and language for the first page view."""
    return _first_tests(ui.request_language())


@functools.lru_cache(maxsize=2)
def _first_tests(lang: str) -> tuple[str, str, str]:
    with ui.language(lang):
        return tests_view()


def first_split() -> tuple[str, str, str]:
    """The split demo at the default settings, computed once per process and language for the first page view."""
    return _first_split(ui.request_language())


@functools.lru_cache(maxsize=2)
def _first_split(lang: str) -> tuple[str, str, str]:
    with ui.language(lang):
        return split_view()


def _five_by_two(a: str, b: str, X, y, seed: int) -> np.ndarray:
    """5 replications of 2-fold cross-validation: Delta[i, j] = error(A) - error(B) on fold j of replication i."""
    D = np.zeros((5, 2))
    for i in range(5):
        folds = ev.k_fold(y, 2, True, seed + 1000 + i)
        D[i] = _fold_errors(a, X, y, folds, seed) - _fold_errors(b, X, y, folds, seed)
    return D


# ---- Section 5: bias-variance ----------------------------------------------------------------------------------
@one_thread
def bias_variance_view(noise=0.3, n_train=20, n_sets=100, seed=0):
    """-> (stacked curves svg: bias^2, + variance, + noise, measured error, training error; status)."""
    c = ui.Clamped()
    noise = c.float("eval_arg_bv_noise", noise, 0.0, 1.0, 0.3)
    n_train = c.int("eval_arg_points", n_train, 5, 100, 20)
    n_sets = c.int("eval_arg_sets", n_sets, 10, 300, 100)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    degrees = np.arange(0, min(MAX_DEGREE, n_train - 1) + 1)
    bv = ev.bias_variance(degrees, n_train, n_sets, noise, seed)
    cap = lambda v: np.minimum(v, 2.0)  # noqa: E731  # the high-degree variance explodes; cut the picture at 2
    svg = ui.svg.lines_svg({ui.say("eval_msg_bias2"): cap(bv.bias2), ui.say("eval_msg_bias_var"): cap(bv.bias2 + bv.variance),
                            ui.say("eval_msg_bias_var_noise"): cap(bv.bias2 + bv.variance + bv.noise),
                            ui.say("eval_msg_measured_error"): cap(bv.error),
                            ui.say("eval_msg_training_error"): cap(bv.train_error)}, degrees,
                           title=ui.say("eval_msg_bv_title"), width=460, height=240)
    best = int(np.argmin(bv.error))
    text = ui.say("eval_msg_bv", sets=n_sets, n=n_train, noise=noise, best_error=bv.error[best], best=degrees[best],
                  b2=bv.bias2[best], var=bv.variance[best], noise_part=bv.noise, b2_0=bv.bias2[0], var_0=bv.variance[0],
                  last=degrees[-1], b2_last=bv.bias2[-1], var_last=bv.variance[-1])
    return svg, ui.status(c, text)


# ---- layout ---------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab; every figure is drawn on page load (training takes a fraction of a second each)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("eval_split_h"))
        gr.Markdown(ui.t("eval_split_intro"))
        with gr.Row():
            s_data = gr.Dropdown(ui.choices("eval_data", ev.DATASETS), value="mnist_3v5", label=ui.t("eval_dataset"))
            s_learner = gr.Dropdown(ui.choices("eval_learner", ev.LEARNERS), value="logistic", label=ui.t("eval_learner"))
            s_noise = gr.Slider(0.2, 3.0, value=1.0, step=0.1, label=ui.t("eval_noise"))
        with gr.Row():
            s_method = gr.Radio(ui.choices("eval_split", SPLIT_METHODS), value="holdout", label=ui.t("eval_method"))
            s_strat = gr.Checkbox(True, label=ui.t("eval_stratified"))
        with gr.Row():
            s_frac = gr.Slider(0.05, 0.95, value=0.3, step=0.05, label=ui.t("eval_test_fraction"))
            s_k = gr.Slider(2, MAX_K, value=10, step=1, label=ui.t("eval_k"))
            s_rep = gr.Slider(1, MAX_REPEATS, value=10, step=1, label=ui.t("eval_repeats"))
            s_seed = gr.Number(0, precision=0, label=ui.t("eval_seed"))
        s_btn = gr.Button(ui.t("eval_run"), variant="primary")
        s_where = gr.HTML(elem_id="eval-split-where")
        s_est = gr.HTML(elem_id="eval-split-estimates")
        s_status = ui.status_line()
        gr.Markdown(ui.t("eval_oob_h"))
        oob_html = gr.HTML(elem_id="eval-oob")
        oob_status = ui.status_line()

        gr.Markdown(ui.t("eval_scores_h"))
        gr.Markdown(ui.t("eval_scores_intro"))
        with gr.Row():
            c_data = gr.Dropdown(ui.choices("eval_data", ev.DATASETS), value="mnist_3v5", label=ui.t("eval_dataset"))
            c_learner = gr.Dropdown(ui.choices("eval_learner", ev.LEARNERS), value="logistic", label=ui.t("eval_learner"))
            c_noise = gr.Slider(0.2, 3.0, value=1.0, step=0.1, label=ui.t("eval_noise"))
        with gr.Row():
            c_thr = gr.Slider(0.0, 1.0, value=0.5, step=0.01, label=ui.t("eval_threshold"), elem_id="eval-threshold")
            c_beta = gr.Slider(0.1, 10.0, value=1.0, step=0.1, label=ui.t("eval_beta"))
        with gr.Row():
            c_cm = gr.HTML(elem_id="eval-confusion")
        with gr.Row():
            c_pr = gr.HTML(elem_id="eval-pr")
            c_roc = gr.HTML(elem_id="eval-roc")
        c_status = ui.status_line(elem_id="eval-scores-status")
        ui.share_link(TAB_ID, {"data": c_data, "learner": c_learner, "noise": c_noise, "threshold": c_thr,
                               "beta": c_beta})
        gr.Markdown(ui.t("eval_multi_h"))
        with gr.Row():
            m_source = gr.Radio([("MNIST", "mnist"), ("Fashion-MNIST", "fashion")], value="mnist", label=ui.t("eval_source"))
            m_k = gr.Slider(1, 25, value=5, step=1, label=ui.t("eval_knn_k"))
        with gr.Row():
            m_cm = gr.HTML(elem_id="eval-multiclass")
            m_table = gr.Markdown(elem_classes=["stats"])
        m_status = ui.status_line()

        gr.Markdown(ui.t("eval_costs_h"))
        gr.Markdown(ui.t("eval_costs_intro"))
        cost_df = gr.Dataframe([[0, 1], [5, 0]], headers=["ŷ = +", "ŷ = −"], datatype="number", type="array",
                               row_count=(2, "fixed"), column_count=(2, "fixed"), interactive=True,
                               label=ui.t("eval_cost"), elem_id="eval-cost")
        cost_html = gr.HTML(elem_id="eval-cost-curve")
        cost_status = ui.status_line()

        gr.Markdown(ui.t("eval_tests_h"))
        gr.Markdown(ui.t("eval_tests_intro"))
        with gr.Row():
            t_learners = gr.CheckboxGroup(ui.choices("eval_learner", ev.LEARNERS), value=["logistic", "knn7", "stump", "perceptron"],
                                          label=ui.t("eval_learners"))
            t_data = gr.Dropdown(ui.choices("eval_data", ev.DATASETS), value="mnist_4v9", label=ui.t("eval_dataset"))
        with gr.Row():
            t_k = gr.Slider(2, MAX_K, value=10, step=1, label=ui.t("eval_k"))
            t_alpha = gr.Slider(0.01, 0.2, value=0.05, step=0.01, label=ui.t("eval_alpha"))
            t_eps0 = gr.Slider(0.01, 0.5, value=0.1, step=0.01, label=ui.t("eval_eps0"))
            t_seed = gr.Number(0, precision=0, label=ui.t("eval_seed"))
        t_btn = gr.Button(ui.t("eval_run"), variant="primary")
        t_table = gr.Markdown(elem_classes=["stats"], elem_id="eval-tests-table")
        t_cd = gr.HTML(elem_id="eval-cd")
        t_status = ui.status_line()

        gr.Markdown(ui.t("eval_bv_h"))
        gr.Markdown(ui.t("eval_bv_intro"))
        with gr.Row():
            b_noise = gr.Slider(0.0, 1.0, value=0.3, step=0.05, label=ui.t("eval_bv_noise"))
            b_n = gr.Slider(5, 100, value=20, step=1, label=ui.t("eval_bv_n"))
            b_sets = gr.Slider(10, 300, value=100, step=10, label=ui.t("eval_bv_sets"))
        b_html = gr.HTML(elem_id="eval-bv")
        b_status = ui.status_line()

    quick = dict(show_progress="hidden", trigger_mode="always_last")
    s_inputs = [s_data, s_learner, s_noise, s_method, s_frac, s_strat, s_k, s_rep, s_seed]
    # gr.on(None, fn, inputs, ...) runs on page load and whenever an input changes (each a fraction of a second);
    # the split and test demos train up to ~100 models, so they run on their button, and on page load once per
    # process (cached defaults).
    s_inputs = [s_data, s_learner, s_noise, s_method, s_frac, s_strat, s_k, s_rep, s_seed]
    s_btn.click(split_view, s_inputs, [s_where, s_est, s_status], api_name="eval_split", show_progress="minimal")
    gr.on(None, first_split, None, [s_where, s_est, s_status], show_progress="hidden", api_visibility="private")
    gr.on(None, oob_view, s_seed, [oob_html, oob_status], api_name="eval_oob", **quick)
    gr.on(None, scores_view, [c_data, c_learner, c_noise, c_thr, c_beta], [c_cm, c_pr, c_roc, c_status],
          api_name="eval_scores", **quick)
    gr.on(None, multiclass_view, [m_source, m_k], [m_cm, m_table, m_status], api_name="eval_multiclass", **quick)
    gr.on(None, cost_view, [c_data, c_learner, c_noise, c_thr, cost_df], [cost_html, cost_status],
          api_name="eval_costs", **quick)
    t_btn.click(tests_view, [t_learners, t_data, t_k, t_alpha, t_eps0, t_seed], [t_table, t_cd, t_status],
                api_name="eval_tests", show_progress="minimal")
    gr.on(None, first_tests, None, [t_table, t_cd, t_status], show_progress="hidden", api_visibility="private")
    gr.on(None, bias_variance_view, [b_noise, b_n, b_sets], [b_html, b_status], api_name="eval_bias_variance", **quick)
    return note
