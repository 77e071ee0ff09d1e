#!/usr/bin/env perl
# The README's numbers, from what the shipped scenarios print: every
# `<!-- results:NAME -->...<!-- /results:NAME -->` block of README.md is
# written from the answers the sharesim binary printed with `--format json
# --all-columns`, one file DIR/<scenario>.json per scenario (what
# scripts/regenerate-readme-results.sh saves).
#
#   perl scripts/readme-results.pl DIR README.md           # rewrite the blocks
#   perl scripts/readme-results.pl --check DIR README.md   # exit 1 naming each block that differs
#
# A block whose scenarios have no file in DIR is left alone and named (the
# slow scenarios, which only the full regeneration runs). Every block of the
# README must have a rule below and every rule a block: an unknown or
# missing block is an error (exit 2), so a number cannot stay hand-written
# by mistake. Core Perl only (JSON::PP).
use strict;
use warnings;
use JSON::PP;

my $check = 0;
if (@ARGV && $ARGV[0] eq '--check') {
    $check = 1;
    shift @ARGV;
}
die "usage: readme-results.pl [--check] DIR README.md\n" unless @ARGV == 2;
my ($dir, $readme) = @ARGV;

# ---------------------------------------------------------------- the answers
my %answers;
for my $file (glob "$dir/*.json") {
    my ($name) = $file =~ m{([^/]+)\.json$};
    open my $fh, '<', $file or die "readme-results: cannot read $file: $!\n";
    local $/;
    my $text = <$fh>;
    die "readme-results: $file is empty (the run printed no answer)\n" unless length $text;
    $answers{$name} = decode_json($text);
}

# The rows of scenario `s` whose columns have the given values (numbers
# compared as numbers).
sub rows {
    my ($s, %want) = @_;
    my $all = $answers{$s} or die "readme-results: no answer of $s\n";
    return grep {
        my $r = $_;
        !grep {
            my $v = $r->{$_};
            !defined $v
                || ($want{$_} =~ /^-?[\d.]+(?:e-?\d+)?$/ ? $v != $want{$_} : $v ne $want{$_})
        } keys %want
    } @$all;
}

# The one row of scenario `s` with these values.
sub one {
    my ($s, %want) = @_;
    my @r = rows($s, %want);
    my $what = join ', ', map {"$_ = $want{$_}"} sort keys %want;
    die "readme-results: $s: " . scalar(@r) . " rows with $what, expected one\n" unless @r == 1;
    return $r[0];
}

# A column of a row; a missing or null value is an error (the README would
# quote nothing).
sub col {
    my ($row, $c) = @_;
    die "readme-results: $row->{scenario} / $row->{placement}: no value of $c\n"
        unless defined $row->{$c};
    return $row->{$c};
}

# ------------------------------------------------------------- number formats
# 3 significant digits, whole numbers from 100 up, thousands separators.
sub num {
    my ($x) = @_;
    my $s = abs($x) >= 100 ? sprintf('%.0f', $x) : sprintf('%.3g', $x);
    $s = sprintf('%.10f', $s) + 0 if $s =~ /e/;
    1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
    return $s;
}
sub usd { return '$' . num($_[0]) }
sub pct { return num($_[0] * 100) . ' %' }
sub whole { my $s = sprintf('%.0f', $_[0]); 1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/; return $s }
sub ms { return sprintf('%.0f ms', $_[0] * 1000) }

# "20-200 ms" for consecutive values of a sorted list, "500 ms" for one.
sub span_ms {
    my @v = @_;
    return 'no' unless @v;
    return ms($v[0]) if @v == 1;
    return sprintf('%.0f-%.0f ms', $v[0] * 1000, $v[-1] * 1000);
}

# ----------------------------------------------------------------- the rules
# name => [scenarios it needs, sub returning the block's text]
my %rule;

# default + seed-one-percent: the sharing factor by duty cycle.
$rule{'default-table'} = [[qw(default seed-one-percent)], sub {
    my %label = ('0.0002' => ' (typical chat user)', '0.003' => ' (heavy user)');
    my %seen;
    my @duty = sort { $a <=> $b } grep { !$seen{$_}++ } map { $_->{sweep_users_duty_cycle} } @{$answers{default}};
    my $users = col(one('default', sweep_users_duty_cycle => $duty[0], placement => 'h100-pool'), 'users');
    my @out = (
        '| duty cycle | H100s for ' . whole($users) . ' users | memory per user | capex per user | sharing factor: memory / devices / capex / energy | naive 1 / duty |',
        '|---|---|---|---|---|---|',
    );
    for my $d (@duty) {
        my ($s, %at) = ('default', sweep_users_duty_cycle => $d);
        my $label = $label{$d} // '';
        if (!col(one($s, %at, placement => 'desktop-per-user'), 'feasible')) {
            # The desktop misses the default target: the 30 s target of
            # seed-one-percent, where it meets it.
            ($s, %at) = ('seed-one-percent', sweep_users_duty_cycle => $d, sweep_service_level_ttft_p99_s => 30);
            $label = ' (TTFT <= 30 s: seed-one-percent)';
            next unless col(one($s, %at, placement => 'desktop-per-user'), 'feasible');
        }
        my $p = one($s, %at, placement => 'h100-pool');
        push @out, sprintf('| %s%s | %s | %s GB | %s | %s | %s |',
            pct($d), $label, whole(col($p, 'devices_total')), num(col($p, 'mem_gb_per_user')),
            usd(col($p, 'capex_usd_per_user')),
            join(' / ', map { num(col($p, "sharing_factor_$_")) } qw(memory devices capex energy)),
            num(1 / $d));
    }
    return "\n" . join("\n", @out) . "\n";
}];

my $one_percent = sub { one('default', sweep_users_duty_cycle => 0.01, placement => 'h100-pool') };
$rule{'default-1pct-devices'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_devices')) }];
$rule{'default-1pct-capex'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_capex')) }];
$rule{'default-1pct-batch'} = [['default'], sub { whole(col($one_percent->(), 'mean_batch')) }];
$rule{'default-1pct-energy'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_energy')) }];

# household-office-region: the pool-size curve.
my $hor = sub { one('household-office-region', placement => 'h100-pool', pool_size => $_[0]) };
my $hor_desk = sub { one('household-office-region', placement => 'desktop-per-user') };
for my $k (1, 4, 100, 10000, 100000) {
    $rule{"household-mem-$k"} = [['household-office-region'], sub { num(col($hor->($k), 'mem_gb_per_user')) . ' GB' }];
}
$rule{'household-devices-all'} = [['household-office-region'], sub {
    whole(col($hor->(col($hor_desk->(), 'users')), 'devices_total')) }];
$rule{'household-memory-factor'} = [['household-office-region'], sub {
    num(col($hor->(col($hor_desk->(), 'users')), 'sharing_factor_memory')) }];
$rule{'household-capex-factor'} = [['household-office-region'], sub {
    num(col($hor->(col($hor_desk->(), 'users')), 'sharing_factor_capex')) }];
# The smallest pool that costs less per user than a desktop.
my $hor_cheaper = sub {
    my $desk = col($hor_desk->(), 'capex_usd_per_user');
    my @r = sort { $a->{pool_size} <=> $b->{pool_size} }
        grep { $_->{feasible} && defined $_->{capex_usd_per_user} && $_->{capex_usd_per_user} < $desk }
        rows('household-office-region', placement => 'h100-pool');
    die "readme-results: household-office-region: no pool cheaper than a desktop\n" unless @r;
    return $r[0];
};
$rule{'household-cheaper-pool'} = [['household-office-region'], sub { whole($hor_cheaper->()->{pool_size}) }];
$rule{'household-cheaper-capex'} = [['household-office-region'], sub { usd(col($hor_cheaper->(), 'capex_usd_per_user')) }];
$rule{'household-desktop-capex'} = [['household-office-region'], sub { usd(col($hor_desk->(), 'capex_usd_per_user')) }];

# memory-price-shock: capex per user and the capex factor at 1x and 3x memory.
my $mps = sub {
    my ($mult, $price, $placement) = @_;
    one('memory-price-shock', sweep_costs_memory_price_multiplier => $mult,
        sweep_placements_0_price_usd => $price, placement => $placement);
};
for my $m (1, 3) {
    $rule{"mps-desktop-${m}x"} = [['memory-price-shock'], sub { usd(col($mps->($m, 1999, 'desktop-per-user'), 'capex_usd_per_user')) }];
    $rule{"mps-pool-${m}x"} = [['memory-price-shock'], sub { usd(col($mps->($m, 1999, 'h100-pool'), 'capex_usd_per_user')) }];
    $rule{"mps-factor-${m}x"} = [['memory-price-shock'], sub { num(col($mps->($m, 1999, 'h100-pool'), 'sharing_factor_capex')) }];
    $rule{"mps-factor-6500-${m}x"} = [['memory-price-shock'], sub { num(col($mps->($m, 6500, 'h100-pool'), 'sharing_factor_capex')) }];
}
$rule{'mps-pool-devices'} = [['memory-price-shock'], sub { whole(col($mps->(1, 1999, 'h100-pool'), 'devices_total')) }];

# latency-and-availability: the pool's p99 TTFT beyond the round trip, and
# the round trips at which each placement meets the target.
$rule{'latency-verdicts'} = [['latency-and-availability'], sub {
    my $s = 'latency-and-availability';
    my $rtt = 'sweep_placements_1_network_rtt_s';
    my @pool = sort { $a->{$rtt} <=> $b->{$rtt} } rows($s, placement => 'h100-pool');
    my @meets = grep { $_->{feasible} } @pool;
    die "readme-results: $s: the pool meets the target at no round trip\n" unless @meets;
    my $extra = 0;
    $extra += col($_, 'ttft_p99_s') - $_->{$rtt} for @meets;
    $extra /= @meets;
    my @misses = map { $_->{$rtt} } grep { !$_->{feasible} } @pool;
    my @desk = grep { $_->{feasible} } rows($s, placement => 'desktop-per-user');
    my $desk = @desk ? 'the desktop meets it at ' . span_ms(map { $_->{$rtt} } @desk) . ' round trips'
        : 'the desktop misses it at every round trip';
    return sprintf("The H100 pool's p99 TTFT is the round trip plus ~%s, so it meets the target at %s round trips%s; %s",
        ms($extra), span_ms(map { $_->{$rtt} } @meets),
        @misses ? ' and misses it at ' . join(' and ', map { ms($_) } @misses) : '', $desk);
}];

# small-models: speech on laptops against one pooled H100, and the hybrid.
my $sm = sub { one('small-models', placement => $_[0], pool_size => $_[1]) };
my $sm_all = sub { col(one('small-models', placement => 'laptop-npu-speech'), 'pool_size') };
$rule{'small-laptop-p99'} = [['small-models'], sub { num(col(one('small-models', placement => 'laptop-npu-speech'), 'response_p99_s')) . ' s' }];
$rule{'small-speech-pool-devices'} = [['small-models'], sub { whole(col($sm->('h100-speech-pool', $sm_all->()), 'devices_total')) }];
$rule{'small-speech-users'} = [['small-models'], sub { whole(col($sm->('h100-speech-pool', $sm_all->()), 'users')) }];
$rule{'small-speech-pool-p99'} = [['small-models'], sub { num(col($sm->('h100-speech-pool', $sm_all->()), 'response_p99_s')) . ' s' }];
for my $f (qw(devices memory capex energy)) {
    $rule{"small-speech-factor-$f"} = [['small-models'], sub { num(col($sm->('h100-speech-pool', $sm_all->()), "sharing_factor_$f")) }];
}
$rule{'small-hybrid'} = [['small-models'], sub {
    my $r = $sm->('speech-local-chat-pooled', $sm_all->());
    num(col($r, 'mem_gb_per_user')) . ' GB and ' . usd(col($r, 'capex_usd_per_user')) . ' per user at ' . whole($sm_all->());
}];
$rule{'small-all-pooled'} = [['small-models'], sub {
    my $r = $sm->('all-pooled', $sm_all->());
    whole(col($r, 'devices_total')) . ' H100s: ' . num(col($r, 'mem_gb_per_user')) . ' GB and ' . usd(col($r, 'capex_usd_per_user')) . ' per user';
}];
$rule{'small-pools-of-10'} = [['small-models'], sub {
    usd(col($sm->('all-pooled', 10), 'capex_usd_per_user')) . ' and ' . usd(col($sm->('speech-local-chat-pooled', 10), 'capex_usd_per_user'));
}];
$rule{'small-laptop-capex'} = [['small-models'], sub { usd(col(one('small-models', placement => 'laptop-npu-speech'), 'capex_usd_per_user')) }];

# azure-trace: the sized fleet for the recorded hour.
my $az = sub { one('azure-trace', placement => $_[0]) };
$rule{'azure-pool-devices'} = [['azure-trace'], sub { whole(col($az->('h100-pool'), 'devices_total')) }];
$rule{'azure-pool-busy'} = [['azure-trace'], sub { pct(col($az->('h100-pool'), 'utilization_share')) }];
$rule{'azure-desktops'} = [['azure-trace'], sub { whole(col($az->('desktop-per-user'), 'devices_total')) }];
$rule{'azure-memory-factor'} = [['azure-trace'], sub { num(col($az->('h100-pool'), 'sharing_factor_memory')) }];
$rule{'azure-capex-factor'} = [['azure-trace'], sub { num(col($az->('h100-pool'), 'sharing_factor_capex')) }];





# always-on-agent (slow: only the full regeneration runs it): agents alone,
# then mixed with chat users.
my $aoa = sub {
    my ($share, $placement, $k) = @_;
    one('always-on-agent', sweep_classes_0_share => $share, placement => $placement, pool_size => $k);
};
my $aoa_all = sub { col(one('always-on-agent', sweep_classes_0_share => 1, placement => 'desktop-per-user'), 'pool_size') };
$rule{'agents-h100s'} = [['always-on-agent'], sub { whole(col($aoa->(1, 'h100-pool', $aoa_all->()), 'devices_total')) }];
$rule{'agents-memory-factor'} = [['always-on-agent'], sub { num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_memory')) }];
$rule{'agents-capex-factor'} = [['always-on-agent'], sub { num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_capex')) }];
$rule{'agents-energy'} = [['always-on-agent'], sub {
    num(col(one('always-on-agent', sweep_classes_0_share => 1, placement => 'desktop-per-user'), 'energy_kwh_per_user_per_day'))
        . ' vs ' . num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'energy_kwh_per_user_per_day')) . ' kWh';
}];
$rule{'agents-shared-desktops-4'} = [['always-on-agent'], sub { num(col($aoa->(1, 'shared-desktops', 4), 'sharing_factor_devices')) . 'x' }];
$rule{'agents-shared-desktops-all'} = [['always-on-agent'], sub {
    my $r = $aoa->(1, 'shared-desktops', $aoa_all->());
    num(col($r, 'sharing_factor_devices')) . 'x for ' . whole($aoa_all->()) . ' agents on ' . whole(col($r, 'devices_total')) . ' desktops';
}];
$rule{'agents-h100-of-4'} = [['always-on-agent'], sub {
    my $r = $aoa->(1, 'h100-pool', 4);
    usd(col($r, 'capex_usd_per_user')) . ' per agent, ' . num(1 / col($r, 'sharing_factor_capex')) . 'x a desktop';
}];
$rule{'agents-table'} = [['always-on-agent'], sub {
    my %seen;
    my @share = sort { $b <=> $a } grep { !$seen{$_}++ } map { $_->{sweep_classes_0_share} } @{$answers{'always-on-agent'}};
    my @out = (
        '| agents / chat users | H100s for ' . whole($aoa_all->()) . ' users | memory / capex / energy factor | desktops if they batch locally (factor) |',
        '|---|---|---|---|',
    );
    for my $a (@share) {
        my $p = $aoa->($a, 'h100-pool', $aoa_all->());
        my $d = $aoa->($a, 'shared-desktops', $aoa_all->());
        push @out, sprintf('| %s / %s | %s | %s | %s (%s) |', pct($a), pct(1 - $a),
            whole(col($p, 'devices_total')),
            join(' / ', map { num(col($p, "sharing_factor_$_")) } qw(memory capex energy)),
            whole(col($d, 'devices_total')), num(col($d, 'sharing_factor_devices')));
    }
    return "\n" . join("\n", @out) . "\n";
}];

# ------------------------------------------------------------------ the README
open my $in, '<', $readme or die "readme-results: cannot read $readme: $!\n";
my $text = do { local $/; <$in> };
close $in;

my (%found, @unknown, @differ, %left);
(my $new = $text) =~ s{(<!-- results:([a-z0-9-]+) -->)(.*?)(<!-- /results:\2 -->)}{
    my ($open, $name, $old, $close) = ($1, $2, $3, $4);
    $found{$name}++;
    my $r = $rule{$name};
    my $now = $old;
    if (!$r) {
        push @unknown, $name;
    } elsif (my @missing = grep { !$answers{$_} } @{$r->[0]}) {
        $left{$_}{$name} = 1 for @missing;
    } else {
        $now = $r->[1]->();
        push @differ, [$name, $old, $now] if $now ne $old;
    }
    "$open$now$close";
}gse;

my @orphan = grep { !$found{$_} } sort keys %rule;
if (@unknown || @orphan) {
    print STDERR "readme-results: README block results:$_ has no rule in scripts/readme-results.pl\n" for @unknown;
    print STDERR "readme-results: rule $_ of scripts/readme-results.pl has no block in the README\n" for @orphan;
    exit 2;
}
for my $s (sort keys %left) {
    printf "readme-results: left alone (no run of %s here; the full regeneration writes them): %s\n",
        $s, join(', ', sort keys %{$left{$s}});
}
if ($check) {
    if (@differ) {
        for my $d (@differ) {
            print "readme-results: README block results:$d->[0] says \"$d->[1]\", the code gives \"$d->[2]\"\n";
        }
        print "readme-results: run bash scripts/regenerate-readme-results.sh and commit README.md\n";
        exit 1;
    }
    printf "readme-results: %d README blocks are what the code gives now\n",
        scalar(grep { my $n = $_; !grep { $left{$_}{$n} } keys %left } keys %found);
} else {
    if ($new ne $text) {
        open my $out, '>', $readme or die "readme-results: cannot write $readme: $!\n";
        print $out $new;
        close $out;
    }
    printf "readme-results: %d README blocks written (%d changed)\n", scalar(keys %found), scalar(@differ);
}
